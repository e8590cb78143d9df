# capc-task: block_in_bowl(first block, first bowl)
# "Put the red block in the blue bowl", written so that it fits any scene: the block and
# the bowl are the first of each on the table, as get_obj_names() lists them.
objects = get_obj_names()
block_names = [name for name in objects if 'block' in name]
bowl_names = [name for name in objects if 'bowl' in name]
block_name = block_names[0]
bowl_name = bowl_names[0]
say(f'putting the {block_name} in the {bowl_name}')
put_first_on_second(block_name, bowl_name)
