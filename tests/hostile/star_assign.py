# expect: E021 3:4
# attack: starred assignment target
a, *b = [1, 2, 3]
