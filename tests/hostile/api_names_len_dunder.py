# expect: E022 3:21
# attack: special method of an API result
n = get_obj_names().__len__()
