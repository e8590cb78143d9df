# expect: E423 runtime
# attack: np.zeros(10**10)
a = np.zeros(10**10)
move_to([0.0, -0.5, 0.1])
