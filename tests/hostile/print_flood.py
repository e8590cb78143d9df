# expect: E420 runtime
# attack: print 100,000 fresh 90 kB strings (output kept in memory)
s = 'x' * 90000
for i in range(100000):
    print(s + str(i))
move_to([0.0, -0.5, 0.1])
