# capc-task: block_in_bowl("red block", "red bowl")
# "Put each block in the bowl of the same colour." Colours come from the object names,
# so the same policy works for any scene that has matching pairs.
objects = get_obj_names()
for name in objects:
    if name.endswith('block'):
        color = name.split(' ')[0]
        bowl = f'{color} bowl'
        if bowl in objects:
            put_first_on_second(name, bowl, speed=0.2)
        else:
            say(f'there is no {color} bowl for the {name}')
