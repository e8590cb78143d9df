# expect: E023 3:5
# attack: dir(np) to list entry points
d = dir(np)
