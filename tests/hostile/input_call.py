# expect: E023 3:5
# attack: read stdin
x = input()
