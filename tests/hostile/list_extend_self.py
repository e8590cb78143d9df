# expect: E423 runtime
# attack: a list extended by itself
x = [0]
while True:
    x.extend(x)
move_to([0.0, -0.5, 0.1])
