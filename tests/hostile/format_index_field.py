# expect: E026 3:14
# attack: str.format indexing into an API result
say('{0[0]}'.format(get_obj_names()))
