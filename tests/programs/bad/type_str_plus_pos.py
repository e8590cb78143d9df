# expect: E103 3:5
pos = get_obj_pos('red block')
s = 'at ' + pos
