# parse_obj_name in the style of the CaP prompt: order blocks by x, index with argsort
block_names = [name for name in get_obj_names() if 'block' in name]
block_positions = np.array([get_obj_pos(name) for name in block_names])
left_to_right = [block_names[i] for i in np.argsort(block_positions[:, 0])]
leftmost = block_names[np.argsort(block_positions[:, 0])[0]]


def get_closest_idx(points, point):
    dists = np.linalg.norm(np.array(points) - np.array(point), axis=1)
    return np.argmin(dists)


closest = block_names[get_closest_idx(block_positions, get_obj_pos('blue bowl'))]
put_first_on_second(closest, 'blue bowl')
