# expect: E301 5
# The distance between two blocks (about 35 cm) used as an x coordinate.
a = get_obj_pos('red block')
b = get_obj_pos('green block')
move_to([np.linalg.norm(a - b), -0.5, 0.1])
