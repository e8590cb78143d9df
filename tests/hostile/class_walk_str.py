# expect: E022 3:8
# attack: walk from a str through __mro__ to object
s = ''.__class__.__mro__[1].__subclasses__()
