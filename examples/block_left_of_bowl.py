# capc-task: in_place("green block", "left side")
# "Move the green block to the left side, but not into the bowl that is there":
# if a bowl is near the left side, place the block 12 cm below that bowl instead.
left_side = np.array([-0.25, -0.5])
target = left_side
for name in get_obj_names():
    if 'bowl' in name and np.linalg.norm(get_obj_pos(name) - left_side) < 0.1:
        target = get_obj_pos(name) + np.array([0.0, -0.12])
put_first_on_second('green block', target, speed=0.15)
