# expect: E010 3:1
# attack: import with an alias
import os as o
