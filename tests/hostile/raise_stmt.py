# expect: E024 3:1
# attack: raise SystemExit
raise SystemExit
