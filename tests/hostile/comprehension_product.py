# expect: E421 runtime
# attack: a 10**4 x 10**4 comprehension
x = [(i, j) for i in range(10**4) for j in range(10**4)]
move_to([0.0, -0.5, 0.1])
