# expect: E301 4
# Points every 10 cm from the middle: the fourth is at x = 0.3 + rounding.
pts = [[0.1 * i, -0.5, 0.1] for i in range(4)]
follow_traj(pts)
