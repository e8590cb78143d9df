if is_obj_visible('yellow block'):
    put_first_on_second('yellow block', 'top right corner')
else:
    say('there is no yellow block')
