# expect: E423 runtime
# attack: np.arange(10**12)
a = np.arange(10**12)
