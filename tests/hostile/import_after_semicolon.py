# expect: E010 3:8
# attack: import after a semicolon
x = 1; import os
