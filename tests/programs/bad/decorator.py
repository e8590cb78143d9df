# expect: E018 2:1
@cache
def f(x):
    return x
