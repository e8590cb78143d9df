# expect: E010 3:1
# attack: plain import
import os
