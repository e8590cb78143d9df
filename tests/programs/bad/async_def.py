# expect: E017 2:1
async def go():
    pass
