# expect: E022 6:7
# attack: a def's __globals__ to reach the module namespace
def f():
    return 1

g = f.__globals__
