# expect: E501 runtime
# attack: a Python exception inside the interpreter must be a located stop
x = 1 / 0
