# expect: E023 3:2
# attack: decorator by name (the builtin name is refused first)
@staticmethod
def f():
    pass
