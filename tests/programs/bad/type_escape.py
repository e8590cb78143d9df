# expect: E023 2:5
t = type(get_obj_names())
