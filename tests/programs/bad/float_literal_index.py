# expect: E107 3:15
names = get_obj_names()
first = names[0.0]
