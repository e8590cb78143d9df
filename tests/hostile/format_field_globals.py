# expect: E026 3:34
# attack: str.format reaching a function's globals
msg = '{0.__init__.__globals__}'.format(say)
