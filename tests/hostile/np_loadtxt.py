# expect: E011 3:8
# attack: np.loadtxt reads a file
a = np.loadtxt('/etc/passwd')
