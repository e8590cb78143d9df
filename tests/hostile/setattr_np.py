# expect: E023 3:1
# attack: setattr on numpy
setattr(np, 'pi', 4)
