# expect: E023 2:1
exec('import os')
