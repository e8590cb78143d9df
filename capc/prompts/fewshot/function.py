"""Definitions of functions a policy called but nobody defined yet (hierarchical generation)."""

from capc.prompts.fewshot import Example

_SCENE = ("yellow block", "green block", "blue bowl")

EXAMPLES = (
    Example(_SCENE, "make_line_pts(start, end, n)",
            "def make_line_pts(start, end, n):\n"
            "    start = np.array(start)\n"
            "    end = np.array(end)\n"
            "    steps = max(n - 1, 1)\n"
            "    return [start + (end - start) * (i / steps) for i in range(n)]",
            call="line_pts = make_line_pts(start=[-0.15, -0.7], end=[0.15, -0.7], n=len(block_names))"),
    Example(_SCENE, "get_closest_idx(points, point)",
            "def get_closest_idx(points, point):\n"
            "    dists = np.linalg.norm(np.array(points) - np.array(point), axis=1)\n"
            "    return int(np.argmin(dists))",
            call="idx = get_closest_idx(points=block_positions, point=get_obj_pos('blue bowl'))"),
    Example(_SCENE, "is_left_of(name_a, name_b)",
            "def is_left_of(name_a, name_b):\n"
            "    return get_obj_pos(name_a)[0] < get_obj_pos(name_b)[0]",
            call="if is_left_of('yellow block', 'blue bowl'):"),
)
