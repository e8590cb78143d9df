# expect: E420 runtime
# attack: 100,000 f-strings of a 20,000-element list kept in a list
l = [0] * 20000
keep = []
for i in range(100000):
    keep.append(f'{l}')
move_to([0.0, -0.5, 0.1])
