# expect: E501 runtime
# attack: np.round with 10**18 decimals overflows a C int inside numpy
a = np.round(np.array([1.5]), 10**18)
move_to([0.0, -0.5, 0.1])
