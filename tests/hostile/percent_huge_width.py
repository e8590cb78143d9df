# expect: E423 runtime
# attack: printf-style width of a billion
s = '%0999999999d' % 1
move_to([0.0, -0.5, 0.1])
