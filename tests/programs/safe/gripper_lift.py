# Grasp the green block by hand and lift it 20 cm.
p = get_obj_pos('green block')
move_to([p[0], p[1], 0.1])
move_to([p[0], p[1], 0.02], speed=0.05)
close_gripper()
move_to([p[0], p[1], 0.2], speed=0.1)
