# expect: E423 runtime
# attack: a format spec with a billion digits
say(f'{1.0:.999999999f}')
move_to([0.0, -0.5, 0.1])
