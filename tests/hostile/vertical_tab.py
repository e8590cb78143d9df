# expect: E999
# attack: vertical tab between statements
x = 1exec('1')
