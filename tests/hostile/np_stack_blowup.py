# expect: E423 runtime
# attack: stack of 10**5 arrays of 10**5
a = np.stack([np.ones(10**5)] * 10**5)
move_to([0.0, -0.5, 0.1])
