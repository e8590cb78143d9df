# expect: E002 2:5
x = $y
