# expect: E501 runtime
# attack: an index of 2**63 - 1 into an API result
x = get_obj_names()[9223372036854775807]
move_to([0.0, -0.5, 0.1])
