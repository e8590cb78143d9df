# expect: E010 3:1
x = 1
from subprocess import run
