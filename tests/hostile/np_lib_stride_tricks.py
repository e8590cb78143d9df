# expect: E011 3:8
# attack: np.lib.stride_tricks.as_strided reads memory outside an array
m = np.lib.stride_tricks.as_strided(np.zeros(3), (10**9,), (0,))
