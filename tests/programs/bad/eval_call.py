# expect: E023 2:10
target = eval('[0.1, -0.5]')
