# expect: E004 2:20
put_first_on_second('red block', 'blue bowl'
