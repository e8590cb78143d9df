# "Tell me where everything is." Perception and geometry only: nothing moves.
objects = get_obj_names()
blocks = [name for name in objects if 'block' in name]
bowls = [name for name in objects if 'bowl' in name]
say(f'I see {len(blocks)} blocks and {len(bowls)} bowls')
for name in objects:
    pos = get_obj_pos(name)
    corner = get_corner_name(pos)
    side = get_side_name(pos)
    say(f'{name}: x={pos[0]:.2f}, y={pos[1]:.2f}, near the {corner} and the {side}')
