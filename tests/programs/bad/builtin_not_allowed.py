# expect: E033 2:8
seen = set(get_obj_names())
