# 5 cm right of the red block stays inside even with perception error.
pos = get_obj_pos('red block')
move_to([pos[0] + 0.05, pos[1], 0.1])
