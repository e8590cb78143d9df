# expect: E302 4
# limits: keep_out_limits.yaml
# The target is inside the camera mast.
move_to([0.2, -0.31, 0.1], speed=0.2)
