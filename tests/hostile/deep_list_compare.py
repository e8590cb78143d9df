# expect: E423 runtime
# attack: comparing two lists nested 50,000 deep
a = [0]
b = [0]
for i in range(50000):
    a = [a]
    b = [b]
say(str(a == b))
move_to([0.0, -0.5, 0.1])
