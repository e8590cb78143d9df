# expect: E999
# attack: lambda default captures an API function
f = lambda x, g=say: g(x)
