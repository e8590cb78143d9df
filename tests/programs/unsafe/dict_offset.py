# expect: E301 5
# The 'right' offset of the table is 12 cm: too far for the red block.
offsets = {'left': -0.1, 'right': 0.12}
pos = get_obj_pos('red block')
move_to([pos[0] + offsets['right'], pos[1], 0.1])
