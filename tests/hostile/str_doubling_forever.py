# expect: E423 runtime
# attack: a string doubled forever
s = 'a'
while True:
    s = s + s
