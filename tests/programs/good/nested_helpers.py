def offset(p, dx, dy):
    return np.array([p[0] + dx, p[1] + dy])


def place_next_to(a, b, gap=0.06):
    put_first_on_second(a, offset(get_obj_pos(b), gap, 0.0))


place_next_to('red block', 'blue block')
place_next_to('green block', 'red block', gap=0.08)
