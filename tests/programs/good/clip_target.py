pos = get_obj_pos('cyan block') + np.array([0.3, 0.0])
safe = np.clip(pos, [-0.25, -0.75], [0.25, -0.25])
put_first_on_second('cyan block', safe)
