# expect: E302 4
# limits: keep_out_limits.yaml
# Placing at the front left corner lowers the block into the fixture.
put_first_on_second('blue block', [-0.25, -0.75])
