# expect: E501 runtime
# attack: a Python exception inside the interpreter must be a located stop
x = 1 / 0
move_to([0.0, -0.5, 0.1])
