# expect: E017 3:1
# attack: async def
async def f():
    pass
