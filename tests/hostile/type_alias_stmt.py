# expect: E023 3:1
# attack: PEP 695 type alias statement
type X = int
