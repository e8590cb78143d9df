# expect: E421 runtime
# attack: a loop whose condition never changes
i = 0
while i < 10:
    pass
