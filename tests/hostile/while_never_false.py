# expect: E421 runtime
# attack: a loop whose condition never changes
i = 0
while i < 10:
    pass
move_to([0.0, -0.5, 0.1])
