# expect: E514 runtime
# attack: np.sqrt(-1) turns a whole target into NaN
p = np.array([0.0, -0.5, 0.1]) * np.sqrt(-1.0)
move_to(p)
