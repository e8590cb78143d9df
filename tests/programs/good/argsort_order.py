names = [n for n in get_obj_names() if 'block' in n]
dists = np.array([np.linalg.norm(get_obj_pos(n)) for n in names])
order = np.argsort(dists)
for idx in order:
    put_first_on_second(names[int(idx)], 'middle')
