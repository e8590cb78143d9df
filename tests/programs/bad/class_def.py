# expect: E012 2:1
class Robot:
    pass
