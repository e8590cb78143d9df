# expect: E022 3:11
# attack: class walk inside an f-string
say(f'{().__class__.__base__.__subclasses__()}')
