# After placing, lift 10 cm more: 25 cm.
put_first_on_second('red block', 'blue bowl')
pos = get_robot_pos()
move_to(pos + [0, 0, 0.1])
