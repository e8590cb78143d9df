# expect: E009 3:9
def outer():
    def inner():
        return 1
    return inner()
