# expect: E999 3:13
# attack: str.format indexing into an API result
say('{0[0]}'.format(get_obj_names()))
