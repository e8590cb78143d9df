middle = denormalize_xy([0.5, 0.5])
put_first_on_second('purple block', middle)
