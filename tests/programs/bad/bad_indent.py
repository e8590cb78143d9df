# expect: E003 4:3
if True:
    x = 1
  y = 2
