# expect: E423 runtime
# attack: a list doubled 40 times
x = [0]
for i in range(40):
    x = x + x
move_to([0.0, -0.5, 0.1])
