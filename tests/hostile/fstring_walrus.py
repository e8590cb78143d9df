# expect: E020 3:9
# attack: assignment expression inside an f-string
say(f'{(y := 1)}')
