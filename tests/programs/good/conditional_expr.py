pos = get_obj_pos('red block')
where = 'left' if pos[0] < 0 else 'right'
say(f'the red block is on the {where}')
