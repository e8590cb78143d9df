# expect: E023 3:1
x = 1exec("1")
