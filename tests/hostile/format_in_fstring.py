# expect: E026 3:24
# attack: str.format called inside an f-string
say(f'{"{0.__class__}".format(1)}')
