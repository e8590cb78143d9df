# expect: E022 2:12
say(f'{say.__globals__}')
