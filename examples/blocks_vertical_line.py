# capc-task: in_line(all blocks, vertical)
# "Put the blocks in a vertical line on the right side of the table."
blocks = [name for name in get_obj_names() if 'block' in name]
ys = np.linspace(-0.3, -0.7, len(blocks))
for name, y in zip(blocks, ys):
    put_first_on_second(name, [0.2, y], speed=0.2)
