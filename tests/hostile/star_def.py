# expect: E021 3:7
# attack: *args in a def
def f(*args):
    return args
