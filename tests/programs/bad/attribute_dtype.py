# expect: E011 3:9
pts = np.zeros((3, 2))
d = pts.dtype
