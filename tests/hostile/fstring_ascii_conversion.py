# expect: E999
# attack: the !a conversion
x = 'a'
say(f'{x!a}')
