# expect: E010 3:1
# a byte-order mark does not hide the import
import os
