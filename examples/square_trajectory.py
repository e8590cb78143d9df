# "Trace a 16 cm square over the blue bowl at a slow speed."
bowl = get_obj_pos('blue bowl')
half = 0.08
corners = [[-half, -half], [half, -half], [half, half], [-half, half], [-half, -half]]
path = np.array([[bowl[0] + dx, bowl[1] + dy, 0.12] for dx, dy in corners])
move_to(path[0], speed=0.2)
follow_traj(path, speed=0.05)
