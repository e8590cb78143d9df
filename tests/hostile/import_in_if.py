# expect: E010 4:5
# attack: import inside a branch
if True:
    import socket
