# capc-task: in_place("red block", "top left corner")
# "Put the blocks in the corners, starting with the red one at the top left."
# The corners are 5 cm inside the table edge (top = far side, y = -0.25).
corners = {
    'top left corner': [-0.25, -0.25],
    'top right corner': [0.25, -0.25],
    'bottom left corner': [-0.25, -0.75],
    'bottom right corner': [0.25, -0.75],
}
blocks = [name for name in get_obj_names() if 'block' in name]
ordered = sorted(blocks, key=lambda name: 0 if name.startswith('red') else 1)
for block, corner in zip(ordered, corners.keys()):
    put_first_on_second(block, corners[corner], speed=0.2)
    say(f'the {block} is now in the {corner}')
