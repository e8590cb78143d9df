# expect: E029 4:8
# attack: an f-string field that never closes
x = 1
say(f'{x')
