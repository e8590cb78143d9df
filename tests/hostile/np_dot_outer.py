# expect: E423 runtime
# attack: a 10**4 x 10**4 outer product via dot
a = np.dot(np.ones((10**4, 1)), np.ones((1, 10**4)))
move_to([0.0, -0.5, 0.1])
