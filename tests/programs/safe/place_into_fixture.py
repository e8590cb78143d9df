# limits: keep_out_limits.yaml
# Placing right of the fixture.
put_first_on_second('blue block', [-0.15, -0.75])
