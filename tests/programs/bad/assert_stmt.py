# expect: E024 2:1
assert len(get_obj_names()) > 0
