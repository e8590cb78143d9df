# expect: E423 runtime
# attack: replace('') on a long string
s = ('a' * 100000).replace('', 'b' * 100000)
move_to([0.0, -0.5, 0.1])
