# expect: E999
# attack: a comment ended by a bare CR, exec after it
# harmlessexec('import os')
