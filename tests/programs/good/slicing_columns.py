names = get_obj_names()
pts = np.array([get_obj_pos(n) for n in names])
xs = pts[:, 0]
ys = pts[:, 1]
left = names[int(np.argmin(xs))]
top = names[int(np.argmax(ys))]
say(f'leftmost: {left}, topmost: {top}')
