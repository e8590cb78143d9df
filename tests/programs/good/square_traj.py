corners = np.array([[-0.1, -0.4], [0.1, -0.4], [0.1, -0.6], [-0.1, -0.6], [-0.1, -0.4]])
move_to(np.array([-0.1, -0.4, 0.1]), speed=0.15)
follow_traj(corners, speed=0.1)
