# expect: E011 3:8
# attack: np.fromfile reads a file
a = np.fromfile('/etc/passwd')
