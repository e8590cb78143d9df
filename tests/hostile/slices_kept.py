# expect: E420 runtime
# attack: 100,000 fresh 90 kB slices kept in a list
s = 'x' * 90000
keep = []
for i in range(100000):
    keep.append(s[i % 10:])
move_to([0.0, -0.5, 0.1])
