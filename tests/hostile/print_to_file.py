# expect: E023 3:17
# attack: print into an opened file
print('x', file=open('/tmp/capc-pwned', 'w'))
