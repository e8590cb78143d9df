blocks = [n for n in get_obj_names() if 'block' in n]
pts = make_line_points(len(blocks), start=[-0.2, -0.4], end=[0.2, -0.4])
for name, pt in zip(blocks, pts):
    put_first_on_second(name, pt)
