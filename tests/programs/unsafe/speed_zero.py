# expect: E303 3
# A speed of zero never arrives.
move_to([0.1, -0.5, 0.1], speed=0)
