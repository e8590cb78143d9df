# expect: E011 3:4
# attack: np.save writes a file
np.save('/tmp/x', np.zeros(3))
