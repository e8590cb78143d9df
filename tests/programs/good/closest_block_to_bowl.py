bowl_pos = get_obj_pos('green bowl')
blocks = [n for n in get_obj_names() if 'block' in n]
closest = min(blocks, key=lambda n: np.linalg.norm(get_obj_pos(n) - bowl_pos))
put_first_on_second(closest, 'green bowl')
