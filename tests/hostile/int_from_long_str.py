# expect: E424 runtime
# attack: int() of a 5000-digit string
x = int('9' * 5000)
move_to([0.0, -0.5, 0.1])
