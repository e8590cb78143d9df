# expect: E034 4:18
# attack: a robot primitive passed as a sort key (motion hidden in a builtin)
pts = [[0.0, -0.5, 0.1], [0.5, -0.5, 0.1]]
m = max(pts, key=move_to)
