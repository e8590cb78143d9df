# expect: E023 3:5
# attack: object() to start a class walk
o = object()
