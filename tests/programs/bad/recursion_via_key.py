# expect: E025 4:40
def order(names):
    # passing itself as the sort key re-enters the function
    return sorted(names, key=lambda n: order([n]))
