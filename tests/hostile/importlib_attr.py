# expect: E023 3:5
# attack: importlib.import_module without an import
m = importlib.import_module('os')
