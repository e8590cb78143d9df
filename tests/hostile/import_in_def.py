# expect: E010 4:5
# attack: import inside a helper def
def f():
    import os
    return 0
