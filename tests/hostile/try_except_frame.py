# expect: E014 3:1
# attack: except clause to reach a traceback frame
try:
    x = 1 / 0
except Exception as e:
    f = e
