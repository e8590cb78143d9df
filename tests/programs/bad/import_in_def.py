# expect: E010 3:5
def f():
    import numpy
    return 1
