# expect: E019 3:1
names = get_obj_names()
del names[0]
