# expect: E421 runtime
# attack: a dict growing forever
d = {}
while True:
    d[len(d)] = 0
