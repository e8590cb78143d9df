# Stop 2 cm above the table.
pos = get_obj_pos('blue block')
move_to([pos[0], pos[1], 0.02], speed=0.05)
