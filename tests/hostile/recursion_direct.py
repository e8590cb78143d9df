# expect: E025 4:12
# attack: direct recursion
def f(n):
    return f(n)

f(1)
