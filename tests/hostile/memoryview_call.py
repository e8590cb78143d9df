# expect: E023 3:5
# attack: raw memory of an array
m = memoryview(get_obj_pos('red block'))
