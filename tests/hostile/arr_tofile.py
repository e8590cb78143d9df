# expect: E011 3:26
# attack: array.tofile writes a file
get_obj_pos('red block').tofile('/tmp/x')
