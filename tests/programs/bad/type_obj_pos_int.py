# expect: E100 2:19
pos = get_obj_pos(3)
