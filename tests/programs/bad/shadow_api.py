# expect: E111 2:1
say = 3
