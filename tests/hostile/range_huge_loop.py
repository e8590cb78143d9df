# expect: E421 runtime
# attack: for over range(10**12)
for i in range(10**12):
    pass
move_to([0.0, -0.5, 0.1])
