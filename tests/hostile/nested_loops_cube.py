# expect: E421 runtime
# attack: 1000^3 iterations
n = 0
for i in range(1000):
    for j in range(1000):
        for k in range(1000):
            n += 1
move_to([0.0, -0.5, 0.1])
