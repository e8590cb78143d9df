# expect: E501 runtime
# attack: a list as a dict key
d = {[1]: 2}
move_to([0.0, -0.5, 0.1])
