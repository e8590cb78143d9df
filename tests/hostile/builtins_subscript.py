# expect: E022 3:1
# attack: exec fetched from __builtins__ by key
__builtins__['exec']('import os')
