# expect: E999
# attack: a def fetched from a dict and called
def f(x):
    d = {'g': f}
    return d['g'](x)

f(1)
