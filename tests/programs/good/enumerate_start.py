for i, name in enumerate(get_obj_names(), start=1):
    say(f'{i}. {name}')
