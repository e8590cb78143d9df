# Unpack and go 5 cm right of it.
x, y = get_obj_pos('red block')
move_to([x + 0.05, y, 0.1])
