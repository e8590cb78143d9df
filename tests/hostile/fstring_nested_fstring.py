# expect: E022 3:14
# attack: a dunder hidden in an f-string nested in an f-string field
say(f'{f"{().__class__}"}')
