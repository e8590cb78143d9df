# expect: E424 runtime
# attack: an integer squared 100 times
x = 2
for i in range(100):
    x = x * x
move_to([0.0, -0.5, 0.1])
