# expect: E301 7
# A circle of radius 15 cm around the red block: its right half is off the table.
center = get_obj_pos('red block')
angles = np.linspace(0, 2 * np.pi, 12)
for a in angles:
    p = center + 0.15 * np.array([np.cos(a), np.sin(a)])
    move_to([p[0], p[1], 0.1], speed=0.2)
