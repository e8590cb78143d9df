# expect: E011 3:21
# attack: a method bound to a variable
f = get_obj_names().append
