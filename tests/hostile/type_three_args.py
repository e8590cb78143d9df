# expect: E023 3:5
# attack: type() building a class
K = type('K', (), {})
