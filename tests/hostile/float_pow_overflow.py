# expect: E501 runtime
# attack: a float power that overflows
x = float(10**18) ** 100
move_to([0.0, -0.5, 0.1])
