# expect: E022 2:1
__import__('os').system('ls')
