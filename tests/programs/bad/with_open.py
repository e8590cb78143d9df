# expect: E013 2:1
with x:
    pass
