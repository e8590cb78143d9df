# 5 cm right of the blocks' centroid.
blocks = [n for n in get_obj_names() if 'block' in n]
center = np.mean([get_obj_pos(n) for n in blocks], axis=0)
put_first_on_second('red block', center + [0.05, 0])
