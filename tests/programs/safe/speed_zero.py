# A slow but positive speed.
move_to([0.1, -0.5, 0.1], speed=0.05)
