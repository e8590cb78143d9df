x_min, y_min, x_max, y_max = get_bbox('blue bowl')
center = np.array([(x_min + x_max) / 2, (y_min + y_max) / 2])
put_first_on_second('red block', center)
