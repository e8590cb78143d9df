# expect: E025
# attack: mutual recursion
def f(n):
    return g(n)

def g(n):
    return f(n)

f(1)
