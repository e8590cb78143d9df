# expect: E008 3:5
if True:
    return
