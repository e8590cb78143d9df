# expect: E020 2:5
if (n := len(get_obj_names())) > 2:
    say('many')
