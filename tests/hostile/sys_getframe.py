# expect: E023 3:5
# attack: sys._getframe without importing sys
f = sys._getframe(0)
