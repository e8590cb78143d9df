# expect: E023 3:5
# attack: super() outside a class
s = super()
