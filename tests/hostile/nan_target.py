# expect: E514 runtime
# attack: a NaN coordinate (comparisons with NaN are all false)
move_to([float('nan'), -0.5, 0.1])
