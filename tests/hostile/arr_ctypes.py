# expect: E011 3:30
# attack: array.ctypes exposes the raw pointer
p = get_obj_pos('red block').ctypes.data
