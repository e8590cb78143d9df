# Both branches stay on the table.
pos = get_obj_pos('red block')
if pos[0] > 0.21:
    move_to([pos[0] + 0.05, pos[1], 0.1])
else:
    move_to([pos[0], pos[1], 0.1])
