# expect: E023 3:9
# attack: eval captured as a default value
def f(x=eval):
    return x('1')
