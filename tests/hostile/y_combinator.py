# expect: E105 3:16
# attack: fixed-point combinator from lambdas
Y = lambda f: (lambda x: f(lambda v: x(x)(v)))(lambda x: f(lambda v: x(x)(v)))
