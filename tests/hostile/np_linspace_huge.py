# expect: E423 runtime
# attack: np.linspace(0, 1, 10**10)
a = np.linspace(0, 1, 10**10)
