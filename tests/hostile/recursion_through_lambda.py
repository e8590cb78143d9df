# expect: E025
# attack: recursion through a lambda in the def
def f(x):
    g = lambda y: f(y)
    return g(x)

f(1)
