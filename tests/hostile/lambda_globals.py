# expect: E022 3:17
# attack: a lambda's __globals__
g = (lambda: 0).__globals__
