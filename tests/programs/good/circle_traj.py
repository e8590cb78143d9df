center = np.array([0.0, -0.5])
angles = np.linspace(0, 2 * np.pi, 24)
pts = np.stack([center[0] + 0.1 * np.cos(angles), center[1] + 0.1 * np.sin(angles)], axis=1)
follow_traj(pts, speed=0.1)
