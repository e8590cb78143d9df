# expect: E023 3:1
# attack: os.system as an attribute of an undefined name
os.system('rm -rf /')
