# expect: E023 3:1
# attack: interactive help (pager, imports)
help(np)
