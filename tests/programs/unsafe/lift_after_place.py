# expect: E301 5
# After placing, lift 20 cm more from where the robot is (15 cm travel height): 35 cm.
put_first_on_second('red block', 'blue bowl')
pos = get_robot_pos()
move_to(pos + [0, 0, 0.2])
