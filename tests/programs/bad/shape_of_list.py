# expect: E106 3:11
names = get_obj_names()
n = names.shape
