# expect: E023 3:1
# attack: __import__ under its own name
os = __import__('os')
