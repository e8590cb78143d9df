block_names = [name for name in get_obj_names() if 'block' in name]
for i in range(1, len(block_names)):
    put_first_on_second(block_names[i], block_names[i - 1])
