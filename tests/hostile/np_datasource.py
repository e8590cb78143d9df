# expect: E011 3:8
# attack: np.DataSource opens paths and URLs
s = np.DataSource('/')
