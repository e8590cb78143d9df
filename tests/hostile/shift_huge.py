# expect: E040 3:7
# attack: left shift by a million
x = 1 << 1000000
