# expect: E023 3:5
# attack: modifier letter e normalises to eval
x = ᵉval('1')
