here = get_robot_pos()
above = here + np.array([0.0, 0.0, 0.05])
move_to(above, speed=0.05)
say(f'tool at height {above[2]:.3f}')
