# expect: E002 3:6
# attack: vertical tab between statements
x = 1exec('1')
