# expect: E010 2:1
import os
