# expect: E010 3:1
# attack: dotted module import
import os.path
