# expect: E021 3:5
# attack: star-args in a call
say(*['hi'])
