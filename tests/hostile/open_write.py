# expect: E023 3:5
# attack: write a file
f = open('/tmp/capc-pwned', 'w')
