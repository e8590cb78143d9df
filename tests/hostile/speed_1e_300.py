# expect: E420 runtime
# attack: a positive speed so small the move never ends
move_to([0.0, -0.5, 0.1], speed=1e-300)
