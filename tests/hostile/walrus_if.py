# expect: E020 3:5
# attack: assignment expression in a condition
if (n := len(get_obj_names())) > 0:
    pass
