# expect: E010 3:1
# attack: relative import
from . import capc
