# expect: E030 3:1
# attack: Cyrillic e looks like exec but is another name: it stays an undefined helper
еxec('import os')
