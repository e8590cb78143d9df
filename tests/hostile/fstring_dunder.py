# expect: E022 4:10
# attack: dunder attribute inside an f-string field
x = 1
say(f'{x.__class__}')
