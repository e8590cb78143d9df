# expect: E022 3:5
# attack: full-width import inside __import__
m = __ｉｍｐｏｒｔ__('os')
