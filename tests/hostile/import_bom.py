# expect: E010 3:1
# attack: byte order mark at the start of the file, then an import
import os
