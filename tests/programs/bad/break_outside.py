# expect: E008 2:1
break
