heights = {'red block': 0.02, 'blue block': 0.06}
for name in get_obj_names():
    h = heights.get(name, 0.0)
    if h > 0.0:
        say(f'{name} is at {h}')
