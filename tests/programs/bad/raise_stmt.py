# expect: E024 3:5
if not is_obj_visible('red block'):
    raise ValueError('no red block')
