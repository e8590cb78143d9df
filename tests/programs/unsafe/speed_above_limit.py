# expect: E303 3
# Move fast: 0.4 m/s is above the 0.25 m/s limit.
move_to([0.0, -0.5, 0.1], speed=0.4)
