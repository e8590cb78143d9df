# expect: E025 3:12
def apply(fn, x):
    return fn(fn, x)
