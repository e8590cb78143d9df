blocks = [n for n in get_obj_names() if 'block' in n]
for lower, upper in zip(blocks, reversed(blocks)):
    if lower != upper:
        say(f'{upper} over {lower}')
