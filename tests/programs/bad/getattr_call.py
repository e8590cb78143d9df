# expect: E023 2:5
x = getattr(np, 'load')
