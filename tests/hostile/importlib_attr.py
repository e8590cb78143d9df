# expect: E011 3:15
# attack: importlib.import_module without an import
m = importlib.import_module('os')
