# After stacking, go 20 cm above the red block where it now is.
put_first_on_second('red block', 'blue block')
p = get_obj_pos('red block')
above = [p[0], p[1], 0.2]
move_to(np.array(above) + [0, 0, 0.04])
