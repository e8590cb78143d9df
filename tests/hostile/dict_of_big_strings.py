# expect: E420 runtime
# attack: a dict of 100,000 fresh 90 kB strings
s = 'x' * 90000
d = {}
for i in range(100000):
    d[i] = s + str(i)
move_to([0.0, -0.5, 0.1])
