# expect: E423 runtime
# attack: [0] * 10**9
x = [0] * 10**9
