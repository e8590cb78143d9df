objects = get_obj_names()
block_name = parse_obj_name('the block closest to the top', f'objects = {objects}')
target = parse_position('a point 10cm left of the blue bowl')
put_first_on_second(block_name, target)
