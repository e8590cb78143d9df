# expect: E022 3:5
# attack: the module loader
l = __loader__
