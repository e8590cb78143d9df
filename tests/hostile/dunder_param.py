# expect: E022 3:7
# attack: a parameter with a dunder name
def f(__class__):
    return __class__
