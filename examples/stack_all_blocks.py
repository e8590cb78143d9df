# capc-task: stacked(all blocks)
# "Stack all the blocks": each block goes on top of the one before it, so the first block
# is the bottom of the tower.
objects = get_obj_names()
block_names = [name for name in objects if 'block' in name]
for i in range(len(block_names) - 1):
    put_first_on_second(block_names[i + 1], block_names[i])
