# expect: E013 3:1
# attack: with-statement around open
with open('/etc/passwd') as f:
    pass
