# expect: E301 6
# Blocks sorted left to right go to x = 0.05, 0.2, 0.35: the third is off the table.
blocks = [n for n in get_obj_names() if 'block' in n]
ordered = sorted(blocks, key=lambda n: get_obj_pos(n)[0])
for i, name in enumerate(ordered):
    put_first_on_second(name, [0.05 + 0.15 * i, -0.7])
