# expect: E423 runtime
# attack: printf-style width of a billion
s = '%0999999999d' % 1
