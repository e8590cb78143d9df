# expect: E023 3:1
# attack: drop into a debugger
breakpoint()
