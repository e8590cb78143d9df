# expect: E999
# attack: object array holding a function
a = np.array([say], dtype=object)
