# expect: E011 3:8
# attack: full-width np.load
a = np.ｌｏａｄ('/tmp/x.npy')
