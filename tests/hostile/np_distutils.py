# expect: E011 3:8
# attack: np.distutils (builds extensions)
d = np.distutils
