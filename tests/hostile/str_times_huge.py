# expect: E423 runtime
# attack: 'a' * 10**10
s = 'a' * 10**10
