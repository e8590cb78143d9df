# expect: E004 2:5
say('hello)
