# expect: E109 3:10
n = len(get_obj_names())
for i in n:
    pass
