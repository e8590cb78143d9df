# expect: E023 3:5
# attack: eval of a string
x = eval('1 + 1')
