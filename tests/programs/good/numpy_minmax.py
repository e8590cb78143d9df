pts = np.array([get_obj_pos(n) for n in get_obj_names()])
lo = np.min(pts, axis=0)
hi = np.max(pts, axis=0)
span = hi - lo
say(f'objects span {span[0]:.2f} by {span[1]:.2f} metres')
