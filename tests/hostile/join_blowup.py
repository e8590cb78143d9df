# expect: E423 runtime
# attack: join of 10**5 references to a 10**5-character string
s = 'a' * 100000
t = ''.join([s] * 100000)
move_to([0.0, -0.5, 0.1])
