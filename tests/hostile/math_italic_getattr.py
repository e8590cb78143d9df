# expect: E023 3:5
# attack: mathematical italic getattr
g = 𝑔𝑒𝑡𝑎𝑡𝑡𝑟(np, 'load')
