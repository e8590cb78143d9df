# 0.05 m/s per block: 0.15 m/s.
blocks = [n for n in get_obj_names() if 'block' in n]
speed = 0.05 * len(blocks)
put_first_on_second('red block', 'yellow bowl', speed=speed)
