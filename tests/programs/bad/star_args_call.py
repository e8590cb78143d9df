# expect: E021 3:21
args = ['red block', 'blue bowl']
put_first_on_second(*args)
