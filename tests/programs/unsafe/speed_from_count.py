# expect: E303 5
# 0.1 m/s per block: three blocks ask for 0.3 m/s.
blocks = [n for n in get_obj_names() if 'block' in n]
speed = 0.1 * len(blocks)
put_first_on_second('red block', 'yellow bowl', speed=speed)
