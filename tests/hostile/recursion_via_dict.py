# expect: E025 4:15
# attack: a def fetched from a dict and called
def f(x):
    d = {'g': f}
    return d['g'](x)

f(1)
