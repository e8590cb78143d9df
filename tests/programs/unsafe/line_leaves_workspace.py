# expect: E301 5
# A horizontal line of points that runs past the right edge.
xs = np.linspace(-0.2, 0.35, 5)
pts = np.array([[x, -0.5, 0.1] for x in xs])
follow_traj(pts, speed=0.1)
