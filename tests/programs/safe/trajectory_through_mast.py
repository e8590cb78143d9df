# limits: keep_out_limits.yaml
# The same sweep along y = -0.4 passes below it.
pts = [[0.1, -0.4, 0.1], [0.28, -0.4, 0.1]]
follow_traj(pts, speed=0.1)
