# expect: E421 runtime
# attack: a dict growing forever
d = {}
while True:
    d[len(d)] = 0
move_to([0.0, -0.5, 0.1])
