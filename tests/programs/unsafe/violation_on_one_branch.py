# expect: E301 5
# Only the branch taken when the red block is right of 0.21 leaves the table.
pos = get_obj_pos('red block')
if pos[0] > 0.21:
    move_to([pos[0] + 0.09, pos[1], 0.1])
else:
    move_to([pos[0], pos[1], 0.1])
