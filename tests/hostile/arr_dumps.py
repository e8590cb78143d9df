# expect: E011 3:30
# attack: array.dumps pickles to bytes
b = get_obj_pos('red block').dumps()
