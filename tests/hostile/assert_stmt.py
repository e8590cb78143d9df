# expect: E024 3:1
# attack: assert statement
assert False
