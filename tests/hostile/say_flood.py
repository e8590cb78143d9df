# expect: E420 runtime
# attack: say() 100,000 fresh 90 kB strings
s = 'x' * 90000
for i in range(100000):
    say(s + str(i))
move_to([0.0, -0.5, 0.1])
