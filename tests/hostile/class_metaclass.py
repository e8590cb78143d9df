# expect: E012 3:1
# attack: a class deriving from type
class M(type):
    pass
