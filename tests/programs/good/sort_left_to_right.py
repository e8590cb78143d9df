blocks = [n for n in get_obj_names() if n.endswith('block')]
ordered = sorted(blocks, key=lambda n: get_obj_pos(n)[0])
xs = np.linspace(-0.2, 0.2, len(ordered))
for x, name in zip(xs, ordered):
    put_first_on_second(name, [x, -0.35])
