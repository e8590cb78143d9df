# expect: E423 runtime
# attack: list(range(10**12))
r = list(range(10**12))
move_to([0.0, -0.5, 0.1])
