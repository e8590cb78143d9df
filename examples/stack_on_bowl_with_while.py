# capc-task: block_in_bowl("red block", "gray bowl")
# "Stack the blocks, smallest name first, starting in the gray bowl." A while loop
# walks the tower upwards; each block goes onto the one placed before it.
blocks = sorted([name for name in get_obj_names() if 'block' in name], key=len)
base = 'gray bowl'
i = 0
while i < len(blocks):
    put_first_on_second(blocks[i], base, speed=0.15)
    base = blocks[i]
    i += 1
say(f'stacked {i} blocks in the gray bowl')
