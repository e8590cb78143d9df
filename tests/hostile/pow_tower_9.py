# expect: E404
# attack: 9**9**9
x = 9**9**9
