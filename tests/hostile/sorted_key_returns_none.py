# expect: E501 runtime
# attack: a sort key that moves the arm and returns None (None < None)
pts = [[0.0, -0.5, 0.1], [0.1, -0.5, 0.1]]
s = sorted(pts, key=lambda p: move_to(p))
