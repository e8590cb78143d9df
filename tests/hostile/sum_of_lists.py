# expect: E423 runtime
# attack: sum() concatenating aliased lists
x = [[0] * 1000] * 1000
y = sum(x, [])
move_to([0.0, -0.5, 0.1])
