# expect: E016 4:5
# attack: a generator def
def f():
    yield 1
