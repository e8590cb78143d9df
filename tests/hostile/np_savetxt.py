# expect: E011 3:4
# attack: np.savetxt writes a file
np.savetxt('/tmp/x', np.zeros(3))
