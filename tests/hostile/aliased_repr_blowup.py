# expect: E423 runtime
# attack: repr of a list that aliases 10**8 elements
x = [[[0] * 100] * 100] * 100
y = [x] * 100
say(str(y))
move_to([0.0, -0.5, 0.1])
