for name in get_obj_names():
    words = name.split()
    label = ' '.join(w.upper() for w in words)
    if name.startswith('gray'):
        say(label.lower().replace('gray', 'grey'))
