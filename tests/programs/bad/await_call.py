# expect: E017 2:5
x = await get_obj_pos('red block')
