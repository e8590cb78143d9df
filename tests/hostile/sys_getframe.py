# expect: E011 3:9
# attack: sys._getframe without importing sys
f = sys._getframe(0)
