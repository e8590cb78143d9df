# expect: E022 3:5
# attack: the __builtins__ mapping as a value
b = __builtins__
