# expect: E025 3:15
# attack: a lambda calling the variable that holds it
f = lambda n: f(n)
f(1)
