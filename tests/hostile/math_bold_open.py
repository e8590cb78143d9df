# expect: E023 3:5
# attack: mathematical bold letters normalise to open
f = 𝐨𝐩𝐞𝐧('/etc/passwd')
