blocks = [n for n in get_obj_names() if 'block' in n]
y = -0.5
for i, name in enumerate(blocks):
    x = -0.2 + i * 0.08
    put_first_on_second(name, [x, y])
