# Clipping to x <= 0.29 does.
pos = get_obj_pos('red block')
target = np.clip(pos + [0.15, 0], [-0.3, -0.8], [0.29, -0.2])
move_to([target[0], target[1], 0.1])
