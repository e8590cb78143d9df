# expect: E514 runtime
# attack: an infinite coordinate
move_to([float('inf'), -0.5, 0.1])
