# expect: E501 runtime
# attack: np.round with -(2**63 - 1) decimals
x = np.round(1.5, -9223372036854775807)
move_to([0.0, -0.5, 0.1])
