# limits: keep_out_limits.yaml
# The target is 10 cm left of the camera mast.
move_to([0.1, -0.31, 0.1], speed=0.2)
