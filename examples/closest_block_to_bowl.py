# capc-task: block_in_bowl("yellow block", "green bowl")
# "Put the block that is closest to the green bowl into it."
bowl_pos = get_obj_pos('green bowl')
blocks = [name for name in get_obj_names() if 'block' in name]
closest = min(blocks, key=lambda name: np.linalg.norm(get_obj_pos(name) - bowl_pos))
distance = np.linalg.norm(get_obj_pos(closest) - bowl_pos)
say(f'the {closest} is {distance * 100:.0f} cm from the green bowl')
put_first_on_second(closest, 'green bowl', speed=0.2)
