# expect: E301 5
# mode: any-scene
# Move the red block 10 cm right of the blue bowl, wherever the bowl is.
target = get_obj_pos('blue bowl') + [0.1, 0]
put_first_on_second('red block', target)
