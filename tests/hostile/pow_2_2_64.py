# expect: E404
# attack: 2**(2**64)
x = 2**(2**64)
