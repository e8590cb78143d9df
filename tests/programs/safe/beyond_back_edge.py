# y = -0.75 is on the table.
move_to([0.0, -0.75, 0.1])
