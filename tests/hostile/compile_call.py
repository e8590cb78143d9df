# expect: E023 3:5
# attack: compile a code object
c = compile('1', 'f', 'eval')
