SPEED = 0.1
HOVER = 0.12


def hover_over(name, height=HOVER, speed=SPEED):
    x, y = get_obj_pos(name)
    move_to([x, y, height], speed=speed)


for name in get_obj_names():
    hover_over(name)
hover_over('red block', height=0.08)
