# expect: E999 3:10
# attack: str.format_map with a mapping
say('{x}'.format_map({'x': 1}))
