# expect: E022 3:8
# attack: walk from a tuple to object's subclasses
x = ().__class__.__bases__[0].__subclasses__()
