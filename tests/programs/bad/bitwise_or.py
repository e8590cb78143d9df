# expect: E040 2:11
flags = 1 | 2
