# expect: E010 4:5
# attack: import in a loop body
for i in range(2):
    import sys
