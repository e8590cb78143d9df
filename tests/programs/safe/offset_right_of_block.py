# Put the blue block 5 cm right of the red block.
pos = get_obj_pos('red block')
put_first_on_second('blue block', pos + [0.05, 0])
