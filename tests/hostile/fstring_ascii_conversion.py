# expect: E029 4:9
# attack: the !a conversion
x = 'a'
say(f'{x!a}')
