# expect: E021
# attack: lambda with *args
f = lambda *a: a
