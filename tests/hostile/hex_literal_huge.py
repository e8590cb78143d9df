# expect: E403 3:5
# attack: a 400-bit hex literal
x = 0xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff
