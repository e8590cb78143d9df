# expect: E301 7
# The middle branch of an if/elif/else chain lifts too high.
pos = get_obj_pos('green block')
if pos[1] > -0.3:
    move_to([pos[0], pos[1], 0.1])
elif pos[1] > -0.4:
    move_to([pos[0], pos[1], 0.31])
else:
    move_to([pos[0], pos[1], 0.05])
