"""parse_position: a place described in words in, an xy point out (in `ret_val`)."""

from capc.prompts.fewshot import Example

_SCENE = ("red block", "blue bowl", "green bowl")

EXAMPLES = (
    # A point computed from an object's position is off the table for some placements of the
    # object: the answer clips it onto the table, so it is safe wherever the bowl stands.
    Example(_SCENE, "a point 10cm left of the blue bowl.",
            "pos = get_obj_pos('blue bowl')\n"
            "ret_val = np.clip(np.array([pos[0] - 0.1, pos[1]]), [-0.25, -0.75], [0.25, -0.25])"),
    Example(_SCENE, "the top left corner.",
            "ret_val = np.array([-0.25, -0.25])"),
    Example(_SCENE, "halfway between the two bowls.",
            "ret_val = (get_obj_pos('blue bowl') + get_obj_pos('green bowl')) / 2"),
    Example(_SCENE, "the two corners nearest the robot.",
            "ret_val = np.array([[-0.25, -0.25], [0.25, -0.25]])"),
    Example(_SCENE, "a 20cm line from the red block towards the right with 3 points.",
            "start = get_obj_pos('red block')\n"
            "line = LineString([start, start + [0.2, 0.0]])\n"
            "pts = np.array([line.interpolate(i / 2, normalized=True).coords[0] for i in range(3)])\n"
            "ret_val = np.clip(pts, [-0.25, -0.75], [0.25, -0.25])"),
)
