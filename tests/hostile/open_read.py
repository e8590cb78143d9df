# expect: E023 3:8
# attack: read a file
data = open('/etc/passwd').read()
