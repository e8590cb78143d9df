# expect: E033 3:5
# attack: pow() with a huge exponent
x = pow(10, 10**10)
