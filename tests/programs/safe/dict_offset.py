# The 'right' offset is 5 cm.
offsets = {'left': -0.1, 'right': 0.05}
pos = get_obj_pos('red block')
move_to([pos[0] + offsets['right'], pos[1], 0.1])
