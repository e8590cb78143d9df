# expect: E404
# attack: 10**10**10
x = 10**10**10
