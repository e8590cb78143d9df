# expect: E010 4:1
# attack: Windows line endings around an import
x = 1
import os
