# Move at 0.2 m/s.
move_to([0.0, -0.5, 0.1], speed=0.2)
