# expect: E010 3:1
# attack: re-import numpy under another name
import numpy as n
