far = []
for name in get_obj_names():
    if np.linalg.norm(get_obj_pos(name) - np.array([0.0, -0.5])) > 0.15:
        far.append(name)
say(f'{len(far)} objects are far from the middle')
