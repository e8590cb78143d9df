# limits: keep_out_limits.yaml
# From home to the top middle: the segment passes left of the camera mast.
move_to([0.1, -0.25, 0.1])
