# "Draw a circle of 10 cm radius around the middle of the table, 10 cm above it."
center = np.array([0.0, -0.5])
radius = 0.1
angles = np.linspace(0, 2 * np.pi, 36)
xs = center[0] + radius * np.cos(angles)
ys = center[1] + radius * np.sin(angles)
zs = np.ones(36) * 0.1
move_to([xs[0], ys[0], 0.1], speed=0.2)
follow_traj(np.stack([xs, ys, zs], axis=1), speed=0.1)
move_to([0.0, -0.5, 0.2], speed=0.2)
