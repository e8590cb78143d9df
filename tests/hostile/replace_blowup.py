# expect: E423 runtime
# attack: replace('') on a long string
s = ('a' * 100000).replace('', 'b' * 100000)
