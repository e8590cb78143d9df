# expect: E023 3:5
# attack: vars() of the namespace
v = vars()
