# expect: E022 3:7
x = get_obj_names()
y = x.__class__
