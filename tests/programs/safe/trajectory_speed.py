# The same trajectory at 0.15 m/s.
pts = np.array([[0.0, -0.4], [0.1, -0.45], [0.15, -0.5]])
follow_traj(pts, speed=0.15)
