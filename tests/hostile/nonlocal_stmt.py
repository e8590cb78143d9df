# expect: E015 4:5
# attack: nonlocal statement
def f():
    nonlocal x
    x = 1
