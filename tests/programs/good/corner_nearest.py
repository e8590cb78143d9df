pos = get_obj_pos('blue block')
corner = get_corner_name(pos)
say(f'the blue block is closest to the {corner}')
