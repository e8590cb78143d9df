# expect: E421 runtime
# attack: max over range(10**12) inside a builtin
m = max(range(10**12))
move_to([0.0, -0.5, 0.1])
