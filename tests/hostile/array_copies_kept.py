# expect: E420 runtime
# attack: 100,000 copies of a 90,000-element array kept in a list
a = np.zeros(90000)
keep = []
for i in range(100000):
    keep.append(a + i)
move_to([0.0, -0.5, 0.1])
