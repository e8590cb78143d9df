# expect: E999
# attack: full-width keyword import
ｉｍｐｏｒｔ os
