# capc-task: in_line(all blocks, horizontal)
# "Put the blocks in a horizontal line." A fixed row can be blocked by a bowl or by a block
# that has not moved yet, so the policy looks for a row with enough free slots first:
# a slot is free when every bowl is at least 9 cm and every block 6 cm away (per axis),
# and slots in the row are 8 cm apart so the fingers fit between the blocks.
objects = get_obj_names()
block_names = [name for name in objects if 'block' in name]
line_y = -0.5
slots = []
for y in [-0.5, -0.4, -0.6, -0.3, -0.7]:
    free = []
    for x in np.linspace(-0.25, 0.25, 11):
        clear = True
        for name in objects:
            pos = get_obj_pos(name)
            distance = max(abs(pos[0] - x), abs(pos[1] - y))
            if ('bowl' in name and distance < 0.09) or ('block' in name and distance < 0.06):
                clear = False
        if clear and (len(free) == 0 or x - free[-1] >= 0.08):
            free.append(x)
    if len(slots) == 0 and len(free) >= len(block_names):
        slots = free[:len(block_names)]
        line_y = y
if len(slots) < len(block_names):
    say('there is no free row for a line of blocks')
else:
    for block_name, x in zip(block_names, slots):
        put_first_on_second(block_name, [x, line_y])
