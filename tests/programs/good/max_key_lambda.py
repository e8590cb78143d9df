blocks = [n for n in get_obj_names() if 'block' in n]
top_block = max(blocks, key=lambda n: get_obj_pos(n)[1])
put_first_on_second(top_block, 'top side')
