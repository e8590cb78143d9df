# expect: E014 3:1
# attack: finally to run code after a stop
try:
    pass
finally:
    say('x')
