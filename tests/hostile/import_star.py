# expect: E010 3:1
# attack: from-import of everything
from os import *
