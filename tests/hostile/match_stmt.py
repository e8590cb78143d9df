# expect: E999
# attack: match statement
x = 1
match x:
    case 1:
        pass
