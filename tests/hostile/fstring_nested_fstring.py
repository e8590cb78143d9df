# expect: E999
# attack: an f-string inside an f-string field
say(f'{f"{1}"}')
