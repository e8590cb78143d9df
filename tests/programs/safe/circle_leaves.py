# A circle of radius 5 cm around the red block.
center = get_obj_pos('red block')
angles = np.linspace(0, 2 * np.pi, 12)
for a in angles:
    p = center + 0.05 * np.array([np.cos(a), np.sin(a)])
    move_to([p[0], p[1], 0.1], speed=0.2)
