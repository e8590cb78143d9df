blocks = [n for n in get_obj_names() if 'block' in n]
ys = np.linspace(-0.3, -0.7, len(blocks))
for name, y in zip(blocks, ys):
    put_first_on_second(name, np.array([0.0, y]))
