# expect: E023 3:8
# attack: exec called in an f-string field
say(f'{exec("import os")}')
