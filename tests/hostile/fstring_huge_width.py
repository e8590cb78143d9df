# expect: E423 runtime
# attack: a format spec of a billion columns
say(f'{1:>1000000000}')
move_to([0.0, -0.5, 0.1])
