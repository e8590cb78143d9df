# expect: E023 3:5
# attack: globals()
g = globals()
