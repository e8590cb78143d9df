# expect: E301 8
# Five steps of 7 cm from the middle end 35 cm right of it.
x = 0.0
i = 0
while i < 5:
    x += 0.07
    i += 1
move_to([x, -0.5, 0.1])
