# Five steps of 5 cm end 25 cm right of the middle.
x = 0.0
i = 0
while i < 5:
    x += 0.05
    i += 1
move_to([x, -0.5, 0.1])
