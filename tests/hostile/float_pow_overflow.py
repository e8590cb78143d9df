# expect: E501 runtime
# attack: a float power that overflows
x = float(10**18) ** 100
