# expect: E514 runtime
# attack: inf - inf computed from an overflow
x = 1e308 * 10
move_to([x - x, -0.5, 0.1])
