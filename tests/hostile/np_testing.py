# expect: E011 3:4
# attack: np.testing (runs subprocesses, imports)
np.testing.assert_equal(1, 1)
