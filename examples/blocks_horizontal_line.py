# capc-task: in_line(all blocks, horizontal)
# "Put the blocks in a horizontal line." A fixed row can be blocked by a bowl or by a block
# that has not moved yet, so the policy first looks for a row with a free slot per block:
# a slot is free when every bowl is at least 9 cm and every block 6 cm away from it along
# x or y. Slots are 10 cm apart, so the fingers fit between the blocks.
objects = get_obj_names()
block_names = [name for name in objects if 'block' in name]
positions = [get_obj_pos(name) for name in objects]
needs = [0.09 if 'bowl' in name else 0.06 for name in objects]
line_y = -0.5
slots = []
for y in [-0.5, -0.4, -0.6, -0.3, -0.7]:
    free = []
    for x in np.linspace(-0.25, 0.25, 6):
        if all(abs(pos[0] - x) >= need or abs(pos[1] - y) >= need for pos, need in zip(positions, needs)):
            free.append(x)
            if len(free) == len(block_names):
                break
    if len(free) >= len(block_names):
        slots = free[:len(block_names)]
        line_y = y
        break
if len(slots) < len(block_names):
    say('there is no free row for a line of blocks')
else:
    for block_name, x in zip(block_names, slots):
        put_first_on_second(block_name, [x, line_y])
