# expect: E102 2:27
move_to([0.0, -0.5, 0.1], velocity=0.1)
