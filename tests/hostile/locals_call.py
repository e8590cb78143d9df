# expect: E023 3:5
# attack: locals()
l = locals()
