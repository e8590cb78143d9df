# expect: E038 4:1
for n in get_obj_names():
    pass
else:
    say('done')
