# expect: E010 3:1
# attack: from-import with an alias
from subprocess import run as r
