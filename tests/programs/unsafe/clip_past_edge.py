# expect: E301 5
# Clipping to x <= 0.32 does not keep the target on the table.
pos = get_obj_pos('red block')
target = np.clip(pos + [0.15, 0], [-0.3, -0.8], [0.32, -0.2])
move_to([target[0], target[1], 0.1])
