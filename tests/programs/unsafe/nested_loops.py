# expect: E301 6
# The second inner step goes 40 cm towards the near edge from the green block.
pos = get_obj_pos('green block')
for dx in [0.0, 0.05]:
    for dy in [0.0, 0.4]:
        move_to([pos[0] + dx, pos[1] + dy, 0.1])
