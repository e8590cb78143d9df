# expect: E015 4:5
count = 0
def bump():
    global count
    count += 1
