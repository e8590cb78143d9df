# mode: any-scene
# Put the red block in the middle of the table, wherever it is.
put_first_on_second('red block', 'middle')
