# expect: E106 3:7
names = get_obj_names()
names.lower()
