# expect: E027 3:15
# attack: lambda default captures an API function
f = lambda x, g=say: g(x)
