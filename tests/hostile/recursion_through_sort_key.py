# expect: E025 4:31
# attack: a def passed to sorted as its own key
def f(x):
    return sorted([x, x], key=f)

f(1)
