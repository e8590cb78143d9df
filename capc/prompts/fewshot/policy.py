"""Top-level policies: an instruction in, a policy over the robot API out."""

from capc.prompts.fewshot import Example

_SCENE = ("yellow block", "green block", "purple block", "blue bowl", "red bowl")

EXAMPLES = (
    Example(_SCENE, "put the yellow block in the red bowl.",
            "put_first_on_second('yellow block', 'red bowl')"),
    Example(_SCENE, "stack the blocks on top of each other.",
            "block_names = [name for name in objects if name.endswith('block')]\n"
            "for lower, upper in zip(block_names[:-1], block_names[1:]):\n"
            "    put_first_on_second(upper, lower)"),
    Example(_SCENE, "move the green block to the top left corner, slowly.",
            "target = parse_position('the top left corner')\n"
            "put_first_on_second('green block', target, speed=0.1)"),
    # A target computed from positions may leave the table for some placements: check it and
    # say so instead of moving (or clip it, when a nearby point will do).
    Example(_SCENE, "put the purple block 10cm to the right of the blue bowl.",
            "pos = get_obj_pos('blue bowl')\n"
            "target = np.array([pos[0] + 0.1, pos[1]])\n"
            "if target[0] <= 0.25:\n"
            "    put_first_on_second('purple block', target)\n"
            "else:\n"
            "    say('there is no room on the table 10cm to the right of the blue bowl')"),
    Example(_SCENE, "which block is closest to the blue bowl?",
            "block_name = parse_obj_name('the block closest to the blue bowl', f'objects = {objects}')\n"
            "say(f'the {block_name} is closest to the blue bowl')"),
    Example(_SCENE, "trace a circle of radius 8cm around the red bowl with the gripper.",
            "center = get_obj_pos('red bowl')\n"
            "circle_pts = make_circle(radius=0.08, center=center, n=24)\n"
            "move_to([center[0] + 0.08, center[1], 0.1], speed=0.1)\n"
            "follow_traj(circle_pts, speed=0.1)"),
    Example(_SCENE, "put the blocks in a line along the bottom side.",
            "block_names = [name for name in objects if name.endswith('block')]\n"
            "line_pts = make_line_pts(start=[-0.15, -0.7], end=[0.15, -0.7], n=len(block_names))\n"
            "for name, pt in zip(block_names, line_pts):\n"
            "    put_first_on_second(name, pt)"),
)
