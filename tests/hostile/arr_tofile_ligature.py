# expect: E011 3:26
# attack: fi ligature normalises to tofile
get_obj_pos('red block').toﬁle('/tmp/x')
