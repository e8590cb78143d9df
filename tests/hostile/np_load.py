# expect: E011 3:8
# attack: np.load with pickles
a = np.load('/tmp/x.npy', allow_pickle=True)
