# expect: E120 2:9
move_to(targt)
