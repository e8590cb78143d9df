# Points every 7 cm from the middle.
pts = [[0.07 * i, -0.5, 0.1] for i in range(4)]
follow_traj(pts)
