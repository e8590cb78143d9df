# expect: E011 3:11
# attack: str.format_map with a mapping
say('{x}'.format_map({'x': 1}))
