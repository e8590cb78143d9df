# expect: E023 3:1
# attack: getattr to reach an array method by name
getattr(get_obj_pos('red block'), 'tofile')('/tmp/x')
