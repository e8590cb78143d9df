# expect: E021 2:4
a, *rest = get_obj_names()
