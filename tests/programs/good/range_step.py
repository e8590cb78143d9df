for k in range(0, 10, 2):
    x = -0.2 + k * 0.04
    move_to([x, -0.5, 0.1], speed=0.1)
