# expect: E022 3:8
# attack: full-width letters inside a dunder normalise to __class__
x = ().__ｃｌａｓｓ__
