# expect: E023 4:1
# attack: bare CR as line break hides exec from line-based tools
x = 1exec('1')
