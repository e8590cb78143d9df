# expect: E301 4
# A normalized x of 1.05 maps past the right edge.
target = denormalize_xy([1.05, 0.5])
put_first_on_second('green block', target)
