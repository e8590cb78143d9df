# expect: E423 runtime
# attack: list(range(10**12))
r = list(range(10**12))
