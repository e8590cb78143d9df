# expect: E011 3:4
# attack: printoptions formatter runs a callable
np.set_printoptions(formatter={'all': say})
