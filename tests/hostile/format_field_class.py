# expect: E999 3:20
# attack: str.format field access to __class__
s = '{0.__class__}'.format(1)
