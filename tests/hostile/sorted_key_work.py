# expect: E421 runtime
# attack: sort whose key does 10**5 work per element
s = sorted(list(range(10**5)), key=lambda i: sum(range(10**5)))
move_to([0.0, -0.5, 0.1])
