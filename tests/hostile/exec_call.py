# expect: E023 3:1
# attack: exec of a string
exec('import os')
