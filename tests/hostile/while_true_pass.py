# expect: E421 runtime
# attack: an empty endless loop
while True:
    pass
