# expect: E026 3:21
# attack: str.format field access to __class__
s = '{0.__class__}'.format(1)
