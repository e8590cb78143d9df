# expect: E301 6
# After stacking, the red block sits on the blue block: 27 cm above it is above the ceiling.
put_first_on_second('red block', 'blue block')
p = get_obj_pos('red block')
above = [p[0], p[1], 0.27]
move_to(np.array(above) + [0, 0, 0.04])
