# expect: E422 runtime
# attack: a list nested 50,000 deep built at run time, then printed
a = [0]
for i in range(50000):
    a = [a]
say(str(a))
move_to([0.0, -0.5, 0.1])
