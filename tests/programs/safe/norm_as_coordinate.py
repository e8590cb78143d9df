# Half that distance as an x coordinate.
a = get_obj_pos('red block')
b = get_obj_pos('green block')
move_to([np.linalg.norm(a - b) / 2, -0.5, 0.1])
