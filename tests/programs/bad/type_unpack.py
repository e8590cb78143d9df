# expect: E108 2:1
x, y, z = get_obj_pos('red block')
