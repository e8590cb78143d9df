blocks = [n for n in get_obj_names() if 'block' in n]
pts = np.array([get_obj_pos(b) for b in blocks])
centroid = np.mean(pts, axis=0)
move_to(np.array([centroid[0], centroid[1], 0.2]), speed=0.1)
