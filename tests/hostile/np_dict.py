# expect: E022 3:8
# attack: numpy module __dict__ to find load/save
d = np.__dict__['load']
