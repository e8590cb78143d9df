# expect: E011 3:8
# attack: np.genfromtxt reads a file
a = np.genfromtxt('/etc/passwd')
