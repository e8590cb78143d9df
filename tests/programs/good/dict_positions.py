positions = {name: get_obj_pos(name) for name in get_obj_names()}
for name, pos in positions.items():
    if pos[1] > -0.5:
        say(f'{name} is in the top half')
