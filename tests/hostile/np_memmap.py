# expect: E011 3:8
# attack: np.memmap maps a file
m = np.memmap('/tmp/x', mode='w+', shape=(3,))
