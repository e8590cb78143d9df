# expect: E022 6:7
# attack: a def's __code__ object
def f():
    return 1

c = f.__code__
