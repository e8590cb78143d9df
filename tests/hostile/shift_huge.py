# expect: E999
# attack: left shift by a million
x = 1 << 1000000
