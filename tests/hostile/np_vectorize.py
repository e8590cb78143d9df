# expect: E011 3:8
# attack: np.vectorize wraps a callable
f = np.vectorize(say)
