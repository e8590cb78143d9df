# expect: E021 2:10
def f(a, **kw):
    return a
