# expect: E501 runtime
# attack: a list as a dict key
d = {[1]: 2}
