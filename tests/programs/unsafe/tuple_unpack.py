# expect: E301 4
# Unpack the red block's position and go 10 cm right of it.
x, y = get_obj_pos('red block')
move_to([x + 0.1, y, 0.1])
