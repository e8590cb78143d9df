# expect: E999
# attack: pow() with a huge exponent
x = pow(10, 10**10)
