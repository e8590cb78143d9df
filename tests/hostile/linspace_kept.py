# expect: E420 runtime
# attack: 100,000 fresh 90,000-point np.linspace arrays kept in a list
n = 90000
keep = []
for i in range(100000):
    keep.append(np.linspace(0, 1, n))
move_to([0.0, -0.5, 0.1])
