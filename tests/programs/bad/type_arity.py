# expect: E101 2:52
put_first_on_second('red block', 'blue bowl', 0.1, 5)
