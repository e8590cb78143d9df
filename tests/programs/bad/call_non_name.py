# expect: E105 2:2
(lambda x: x)(3)
