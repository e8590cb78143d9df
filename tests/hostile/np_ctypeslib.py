# expect: E011 3:8
# attack: np.ctypeslib loads a shared library
l = np.ctypeslib.load_library('libc', '/lib')
