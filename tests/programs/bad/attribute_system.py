# expect: E011 2:4
np.random.seed(0)
