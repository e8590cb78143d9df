# expect: E011 3:8
# attack: np.repeat is not allow-listed
a = np.repeat([1], 10)
