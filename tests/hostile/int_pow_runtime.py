# expect: E424 runtime
# attack: a tower of powers from variables
n = 10
x = n ** n ** n
move_to([0.0, -0.5, 0.1])
