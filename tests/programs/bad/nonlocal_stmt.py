# expect: E015 3:5
def f():
    nonlocal x
