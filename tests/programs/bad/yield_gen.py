# expect: E016 4:9
def gen(names):
    for n in names:
        yield n
