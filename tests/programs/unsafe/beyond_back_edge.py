# expect: E301 3
# y = -0.85 is beyond the far edge of the table.
move_to([0.0, -0.85, 0.1])
