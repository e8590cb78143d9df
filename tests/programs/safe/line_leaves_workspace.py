# A horizontal line of points inside the table.
xs = np.linspace(-0.2, 0.2, 5)
pts = np.array([[x, -0.5, 0.1] for x in xs])
follow_traj(pts, speed=0.1)
