# expect: E027 2:15
f = lambda x, y=get_obj_names(): y
