# expect: E301 5
# mode: any-scene
# 20 cm towards the top edge from the red block, wherever it is.
p = get_obj_pos('red block')
put_first_on_second('blue block', p + [0, 0.2])
