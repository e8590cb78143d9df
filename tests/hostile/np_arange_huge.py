# expect: E423 runtime
# attack: np.arange(10**12)
a = np.arange(10**12)
move_to([0.0, -0.5, 0.1])
