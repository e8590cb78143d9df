# transform_shape_pts in the style of the CaP prompt: rotate a shape about its centre
shape_pts = np.array([[0.0, -0.4], [0.1, -0.45], [0.05, -0.5]])
angle = np.deg2rad(30)
center = shape_pts.mean(axis=0)
rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
new_shape_pts = np.dot(shape_pts - center, rotation.T) + center
n_points = new_shape_pts.shape[0]
say(f'{n_points} points, {new_shape_pts.size} numbers')
follow_traj(new_shape_pts, speed=0.1)
