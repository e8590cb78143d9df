# expect: E023 3:5
# attack: hasattr probing for numpy.load
h = hasattr(np, 'load')
