# expect: E016 4:5
# attack: yield from
def f():
    yield from [1]
