moved = 0
for name in get_obj_names():
    if 'bowl' in name:
        continue
    put_first_on_second(name, 'bottom left corner')
    moved += 1
    if moved >= 2:
        break
