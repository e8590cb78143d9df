# expect: E011 3:11
# attack: a str method outside the allow-list (bytes are not in the language)
b = 'abc'.encode('utf-8')
