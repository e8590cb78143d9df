# expect: E301 6
# 20 cm nearer the robot than the front-most object: past the front edge.
objects = get_obj_names()
front = min(objects, key=lambda n: get_obj_pos(n)[1])
p = get_obj_pos(front)
move_to([p[0], p[1] - 0.2, 0.1])
