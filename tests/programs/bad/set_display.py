# expect: E041 2:8
seen = {'red block', 'blue block'}
