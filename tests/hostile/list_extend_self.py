# expect: E423 runtime
# attack: a list extended by itself
x = [0]
while True:
    x.extend(x)
