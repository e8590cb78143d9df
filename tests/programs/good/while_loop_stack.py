blocks = [n for n in get_obj_names() if 'block' in n]
base = blocks[0]
i = 1
while i < len(blocks):
    put_first_on_second(blocks[i], base)
    base = blocks[i]
    i += 1
