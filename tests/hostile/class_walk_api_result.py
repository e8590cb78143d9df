# expect: E022 3:30
# attack: class of an API result (numpy array) to reach numpy internals
p = get_obj_pos('red block').__class__
