def get_blocks(names):
    return [n for n in names if 'block' in n]


def get_bowls(names):
    return [n for n in names if 'bowl' in n]


objs = get_obj_names()
for block, bowl in zip(get_blocks(objs), get_bowls(objs)):
    put_first_on_second(block, bowl, speed=0.2)
