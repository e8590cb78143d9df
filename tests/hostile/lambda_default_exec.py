# expect: E999
# attack: lambda default captures exec
f = lambda e=exec: e('import os')
