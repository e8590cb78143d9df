# The helper lifts every target 25 cm.
def above(name):
    p = get_obj_pos(name)
    move_to([p[0], p[1], 0.25])

above('green block')
