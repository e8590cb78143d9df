# expect: E121 2:5
say(msg)
msg = 'hi'
