# expect: E011 3:30
# attack: array.base
b = get_obj_pos('red block').base
