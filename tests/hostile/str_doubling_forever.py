# expect: E423 runtime
# attack: a string doubled forever
s = 'a'
while True:
    s = s + s
move_to([0.0, -0.5, 0.1])
