# expect: E011 3:21
# attack: list.sort's bound self
s = get_obj_names().sort.__self__
