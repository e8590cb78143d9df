# expect: E023 3:5
# attack: exec bound to another name
e = exec
e('import os')
