# expect: E421 runtime
# attack: an empty endless loop
while True:
    pass
move_to([0.0, -0.5, 0.1])
