# expect: E032 4:17
objs = get_obj_names()
objs = objs[1:]
def first(names=objs):
    return names[0]
