# capc-task: in_line(all blocks, horizontal)
# "Line the blocks up from left to right in alphabetical order of their colour."
def row_positions(n, y, left=-0.2, right=0.2):
    if n == 1:
        return [np.array([0.0, y])]
    return [np.array([x, y]) for x in np.linspace(left, right, n)]


blocks = sorted([name for name in get_obj_names() if name.endswith('block')])
for name, target in zip(blocks, row_positions(len(blocks), -0.3)):
    put_first_on_second(name, target, speed=0.2)
