# expect: E022 3:8
# attack: __import__ called inside an f-string
say(f'{__import__("os")}')
