# expect: E025 3:5
# attack: direct recursion
def f(n):
    return f(n)

f(1)
