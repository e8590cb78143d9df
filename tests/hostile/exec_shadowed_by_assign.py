# expect: E023 3:1
# attack: rebinding the name exec
exec = say
exec('hi')
