# expect: E029 5:11
# attack: a format spec computed from another field
x = 1
y = '>10'
say(f'{x!r:{y}}')
