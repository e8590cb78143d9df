# expect: E301 5
# The helper lifts every target 35 cm: above the workspace ceiling.
def above(name):
    p = get_obj_pos(name)
    move_to([p[0], p[1], 0.35])

above('green block')
