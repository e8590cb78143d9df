# expect: E023 3:1
# attack: full-width letters normalise (NFKC) to exec
ｅｘｅｃ('import os')
