# expect: E006 3:1
# attack: full-width keyword import
ｉｍｐｏｒｔ os
