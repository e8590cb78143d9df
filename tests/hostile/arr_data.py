# expect: E011 3:30
# attack: array.data buffer
d = get_obj_pos('red block').data
