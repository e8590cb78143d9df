# expect: E421 runtime
# attack: sum over range(10**12) inside a builtin
s = sum(range(10**12))
move_to([0.0, -0.5, 0.1])
