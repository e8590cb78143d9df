# expect: E011 3:8
# attack: np.fromregex reads a file
a = np.fromregex('/etc/passwd', 'x', float)
