# expect: E420 runtime
# attack: endless motion
while True:
    move_to([0.0, -0.5, 0.1])
