# expect: E011 2:8
x = np.load('weights.npy')
