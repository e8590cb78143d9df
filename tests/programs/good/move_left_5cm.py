pos = get_obj_pos('red block')
target = pos + np.array([-0.05, 0.0])
put_first_on_second('red block', target)
