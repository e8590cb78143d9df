# mode: any-scene
# Put the red block in the blue bowl, wherever they are.
put_first_on_second('red block', 'blue bowl')
