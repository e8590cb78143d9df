# expect: E002 3:6
# attack: U+2028 line separator between statements
x = 1 exec('1')
