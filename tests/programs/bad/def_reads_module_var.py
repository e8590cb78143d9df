# expect: E032 4:12
objs = get_obj_names()
def first():
    return objs[0]
