# expect: E302 5
# limits: keep_out_limits.yaml
# A sweep along y = -0.3 passes through the camera mast.
pts = [[0.1, -0.3, 0.1], [0.28, -0.3, 0.1]]
follow_traj(pts, speed=0.1)
