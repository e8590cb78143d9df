# expect: E423 runtime
# attack: 'a' * 10**10
s = 'a' * 10**10
move_to([0.0, -0.5, 0.1])
