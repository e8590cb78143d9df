first, second = 'red block', 'blue block'
if get_obj_pos(first)[0] > get_obj_pos(second)[0]:
    first, second = second, first
put_first_on_second(first, second)
