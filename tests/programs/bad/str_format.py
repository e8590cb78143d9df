# expect: E026 2:17
say('{} blocks'.format(3))
