# expect: E303 runtime
# attack: a speed of 1/inf = 0
s = 1e308 * 10
move_to([0.0, -0.5, 0.1], speed=1 / s)
