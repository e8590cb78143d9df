# expect: E015 4:5
# attack: global statement
def f():
    global x
    x = 1
