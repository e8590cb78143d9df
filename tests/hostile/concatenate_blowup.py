# expect: E423 runtime
# attack: np.concatenate of 10**5 references to a 10**5-element array
a = np.zeros(100000)
b = np.concatenate([a] * 100000)
move_to([0.0, -0.5, 0.1])
