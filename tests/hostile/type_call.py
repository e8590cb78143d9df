# expect: E023 3:5
# attack: type() to get at classes
t = type(1)
