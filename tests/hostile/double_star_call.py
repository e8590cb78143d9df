# expect: E021 3:9
# attack: **kwargs in a call
move_to(**{'p': [0, -0.5]})
