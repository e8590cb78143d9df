# The right-most block, then 5 cm further right.
blocks = [n for n in get_obj_names() if 'block' in n]
rightmost = max(blocks, key=lambda n: get_obj_pos(n)[0])
p = get_obj_pos(rightmost)
move_to([p[0] + 0.05, p[1], 0.1])
