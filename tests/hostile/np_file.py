# expect: E022 3:15
# attack: numpy's __file__ path
say(np.linalg.__file__)
