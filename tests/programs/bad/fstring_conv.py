# expect: E029 2:9
say(f'{1!a}')
