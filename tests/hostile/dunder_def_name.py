# expect: E022 3:5
# attack: a def named like a special method
def __init__():
    pass
