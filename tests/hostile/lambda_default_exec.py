# expect: E023 3:14
# attack: lambda default captures exec
f = lambda e=exec: e('import os')
