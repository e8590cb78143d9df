# expect: E301 4
# Points every 11 cm from the middle: the fourth is at x = 0.33.
pts = [[0.11 * i, -0.5, 0.1] for i in range(4)]
follow_traj(pts)
