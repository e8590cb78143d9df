# "Draw an outward spiral, two turns, starting at the middle of the table."
angles = np.deg2rad(np.arange(0, 720, 15))
radii = np.linspace(0.01, 0.12, len(angles))
xs = radii * np.cos(angles)
ys = -0.5 + radii * np.sin(angles)
pts = np.stack([xs, ys], axis=1)
move_to([xs[0], ys[0], 0.08], speed=0.2)
follow_traj(pts, speed=0.08)
