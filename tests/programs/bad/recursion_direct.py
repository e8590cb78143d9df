# expect: E025 5:12
def stack(names):
    if len(names) < 2:
        return None
    return stack(names[1:])
