# expect: E011 4:8
# attack: a generator's frame to reach f_globals
g = (x for x in [1])
fr = g.gi_frame.f_back.f_globals
