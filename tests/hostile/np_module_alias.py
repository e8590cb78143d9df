# expect: E011 3:5
# attack: numpy module bound to a variable, then .load
n = np
a = n.load('/tmp/x.npy')
