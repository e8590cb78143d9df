# expect: E011 3:4
# attack: np.f2py compiles and imports Fortran
np.f2py.run_main(['x'])
