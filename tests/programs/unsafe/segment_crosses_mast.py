# expect: E302 4
# limits: keep_out_limits.yaml
# From home straight to the top right: the segment passes through the camera mast.
move_to([0.25, -0.25, 0.1])
