# expect: E025 5:12
def a(n):
    return b(n)
def b(n):
    return a(n)
