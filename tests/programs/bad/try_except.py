# expect: E014 3:5
for name in get_obj_names():
    try:
        put_first_on_second(name, 'middle')
    except Exception:
        pass
