# Inner steps of 10 cm.
pos = get_obj_pos('green block')
for dx in [0.0, 0.05]:
    for dy in [0.0, 0.1]:
        move_to([pos[0] + dx, pos[1] - dy, 0.1])
