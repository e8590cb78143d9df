# expect: E501 runtime
# attack: reshape to 2**63 - 1 elements
x = np.array([1.0]).reshape(9223372036854775807)
move_to([0.0, -0.5, 0.1])
