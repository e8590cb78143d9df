# expect: E104 3:26
p = get_robot_pos()
corner = get_corner_name(p)
