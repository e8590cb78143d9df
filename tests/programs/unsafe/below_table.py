# expect: E301 4
# Press 1 cm into the table.
pos = get_obj_pos('blue block')
move_to([pos[0], pos[1], -0.01], speed=0.05)
