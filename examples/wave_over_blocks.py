# "Wave over every block: hover 10 cm above it, dip to 6 cm, and rise again."
for name in get_obj_names():
    if not name.endswith('block'):
        continue
    x, y = get_obj_pos(name)
    for height in [0.1, 0.06, 0.1]:
        move_to([x, y, height], speed=0.1)
move_to([0.0, -0.5, 0.2], speed=0.2)
