# expect: E011 3:8
# attack: np.frompyfunc wraps a callable
f = np.frompyfunc(say, 1, 1)
