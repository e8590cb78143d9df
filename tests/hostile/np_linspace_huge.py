# expect: E423 runtime
# attack: np.linspace(0, 1, 10**10)
a = np.linspace(0, 1, 10**10)
move_to([0.0, -0.5, 0.1])
