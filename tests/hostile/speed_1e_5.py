# expect: E420 runtime
# attack: a speed that needs 10**7 control ticks
move_to([0.0, -0.5, 0.1], speed=1e-5)
