# expect: E423 runtime
# attack: np.array of a list that aliases 10**8 numbers
x = [[[0.0] * 100] * 100] * 100
a = np.array([x] * 100)
move_to([0.0, -0.5, 0.1])
