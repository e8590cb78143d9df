# expect: E023 4:1
# attack: a comment ended by a bare CR, exec after it
# harmlessexec('import os')
