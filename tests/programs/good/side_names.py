for name in get_obj_names():
    side = get_side_name(get_obj_pos(name))
    say(f'{name}: {side}')
