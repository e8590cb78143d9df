# expect: E023 3:27
# attack: object array holding a function
a = np.array([say], dtype=object)
