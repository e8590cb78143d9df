# expect: E001 4:7
# attack: match statement
x = 1
match x:
    case 1:
        pass
