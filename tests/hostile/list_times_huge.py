# expect: E423 runtime
# attack: [0] * 10**9
x = [0] * 10**9
move_to([0.0, -0.5, 0.1])
