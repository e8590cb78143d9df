# expect: E011 3:8
# attack: np.lib.format.open_memmap
m = np.lib.format.open_memmap('/tmp/x')
