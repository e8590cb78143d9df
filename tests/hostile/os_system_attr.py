# expect: E011 3:4
# attack: os.system as an attribute of an undefined name
os.system('rm -rf /')
