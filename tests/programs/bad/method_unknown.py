# expect: E011 3:7
names = get_obj_names()
names.length()
