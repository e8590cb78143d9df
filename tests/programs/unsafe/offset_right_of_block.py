# expect: E301 4
# Put the blue block 8 cm right of the red block: past the right edge.
pos = get_obj_pos('red block')
put_first_on_second('blue block', pos + [0.08, 0])
