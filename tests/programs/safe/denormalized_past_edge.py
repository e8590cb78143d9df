# A normalized x of 0.9 stays on the table.
target = denormalize_xy([0.9, 0.5])
put_first_on_second('green block', target)
