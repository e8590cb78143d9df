# expect: E023 2:1
ｅｘｅｃ('print(1)')
