# expect: E423 runtime
# attack: broadcasting to 10**10 elements
a = np.ones((10**5, 1)) * np.ones(10**5)
move_to([0.0, -0.5, 0.1])
