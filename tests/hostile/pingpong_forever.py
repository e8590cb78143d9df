# expect: E420 runtime
# attack: endless motion between two points (every move makes set-points)
while True:
    move_to([0.1, -0.5, 0.1])
    move_to([-0.1, -0.5, 0.1])
