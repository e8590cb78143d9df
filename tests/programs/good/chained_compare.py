for name in get_obj_names():
    x, y = get_obj_pos(name)
    if -0.1 <= x <= 0.1 and -0.6 < y < -0.4:
        say(f'{name} is near the middle')
