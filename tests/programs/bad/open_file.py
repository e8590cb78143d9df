# expect: E023 2:5
f = open('/etc/passwd')
