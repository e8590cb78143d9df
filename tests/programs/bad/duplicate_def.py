# expect: E028 4:5
def f():
    return 1
def f():
    return 2
