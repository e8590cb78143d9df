# expect: E301 5
# The third waypoint of the list is too high.
waypoints = [[0.0, -0.5, 0.1], [0.1, -0.5, 0.1], [0.1, -0.5, 0.4], [0.0, -0.5, 0.1]]
for p in waypoints:
    move_to(p, speed=0.2)
