# expect: E019 4:1
# attack: del statement
x = 1
del x
