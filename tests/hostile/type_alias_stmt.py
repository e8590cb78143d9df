# expect: E999
# attack: PEP 695 type alias statement
type X = int
