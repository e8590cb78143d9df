GAP = 0.05


def spread(names):
    return [np.array([-0.2 + i * GAP, -0.6]) for i in range(len(names))]


blocks = [n for n in get_obj_names() if 'block' in n]
for name, pt in zip(blocks, spread(blocks)):
    put_first_on_second(name, pt, speed=0.15)
