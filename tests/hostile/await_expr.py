# expect: E017 4:5
# attack: await
def f():
    await g()
