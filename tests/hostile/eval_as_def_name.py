# expect: E023 3:5
# attack: a def named eval
def eval(x):
    return x

eval('1')
