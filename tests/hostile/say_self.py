# expect: E022 3:9
# attack: bound self of an API function
s = say.__self__
