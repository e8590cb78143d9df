# expect: E034 2:5
f = put_first_on_second
