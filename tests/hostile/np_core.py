# expect: E011 3:8
# attack: numpy internals
m = np.core.multiarray
