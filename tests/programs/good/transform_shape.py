pts = np.array([[0.0, -0.4], [0.1, -0.5], [0.0, -0.6]])
new_pts = transform_shape_pts('rotate by 45 degrees', f'pts = {pts.tolist()}')
follow_traj(new_pts, speed=0.1)
