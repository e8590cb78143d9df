# expect: E012 3:1
# attack: a class statement
class A:
    pass
