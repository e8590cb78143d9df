# expect: E011 2:11
np.random.seed(0)
