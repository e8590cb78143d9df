# expect: E301 4
# 7.8 cm right of the red block is inside the table as perceived, outside within tolerance.
pos = get_obj_pos('red block')
move_to([pos[0] + 0.078, pos[1], 0.1])
