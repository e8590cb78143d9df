# expect: E420 runtime
# attack: 100,000 fresh 90,000-element list concatenations kept in a list
l = [0] * 90000
keep = []
for i in range(100000):
    keep.append(l + [])
move_to([0.0, -0.5, 0.1])
