# expect: E022 3:1
# attack: assigning a module dunder
__name__ = '__main__'
