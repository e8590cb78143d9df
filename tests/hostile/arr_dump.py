# expect: E011 3:26
# attack: array.dump pickles to a file
get_obj_pos('red block').dump('/tmp/x')
