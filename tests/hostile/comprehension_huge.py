# expect: E421 runtime
# attack: a comprehension over 10**9
x = [i for i in range(10**9)]
move_to([0.0, -0.5, 0.1])
