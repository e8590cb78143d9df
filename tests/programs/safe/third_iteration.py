# All waypoints below the workspace ceiling.
waypoints = [[0.0, -0.5, 0.1], [0.1, -0.5, 0.1], [0.1, -0.5, 0.25], [0.0, -0.5, 0.1]]
for p in waypoints:
    move_to(p, speed=0.2)
