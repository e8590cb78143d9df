# expect: E303 runtime
# attack: a NaN speed (nan > max_speed is false)
move_to([0.0, -0.5, 0.1], speed=float('nan'))
