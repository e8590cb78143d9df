names = get_obj_names()
if any('red' in n for n in names):
    say('there is something red')
if all(n.endswith('block') or n.endswith('bowl') for n in names):
    say('only blocks and bowls')
