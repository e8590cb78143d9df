n = len([name for name in get_obj_names() if 'block' in name])
say(f'I see {n} blocks')
