# "Arrange the blocks in a ring of 12 cm radius around the bowl."
def ring_points(center, radius, n):
    angles = [2 * np.pi * i / n for i in range(n)]
    return [center + radius * np.array([np.cos(a), np.sin(a)]) for a in angles]


bowl = [name for name in get_obj_names() if 'bowl' in name][0]
blocks = [name for name in get_obj_names() if 'block' in name]
for block, point in zip(blocks, ring_points(get_obj_pos(bowl), 0.12, len(blocks))):
    put_first_on_second(block, point, speed=0.2)
