# expect: E423 runtime
# attack: np.zeros(10**10)
a = np.zeros(10**10)
