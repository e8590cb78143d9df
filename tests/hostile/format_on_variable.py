# expect: E026 4:7
# attack: str.format on a variable holding a template
t = '{0.real}'
say(t.format(3))
