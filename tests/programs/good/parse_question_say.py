objects = get_obj_names()
answer = parse_question('how many blocks are there?', f'objects = {objects}')
say(answer)
