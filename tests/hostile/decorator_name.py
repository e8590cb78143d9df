# expect: E018 3:1
# attack: decorator by name
@staticmethod
def f():
    pass
