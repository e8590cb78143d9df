# expect: E421 runtime
# attack: any() over a huge generator
a = any(x > 10**13 for x in range(10**12))
move_to([0.0, -0.5, 0.1])
