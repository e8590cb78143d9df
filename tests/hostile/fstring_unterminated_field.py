# expect: E999
# attack: an f-string field that never closes
x = 1
say(f'{x')
