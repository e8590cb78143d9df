# expect: E423 runtime
# attack: np.ones((10**5, 10**5))
a = np.ones((10**5, 10**5))
move_to([0.0, -0.5, 0.1])
