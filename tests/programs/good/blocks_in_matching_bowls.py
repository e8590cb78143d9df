objects = get_obj_names()
for name in objects:
    if name.endswith('block'):
        color = name.split(' ')[0]
        bowl = f'{color} bowl'
        if bowl in objects:
            put_first_on_second(name, bowl)
