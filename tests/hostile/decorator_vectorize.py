# expect: E018 3:1
# attack: decorator applying np.vectorize
@np.vectorize
def f(x):
    return x
