"""parse_obj_name: a description in, object name(s) out (in `ret_val`)."""

from capc.prompts.fewshot import Example

_SCENE = ("blue block", "cyan block", "purple bowl", "brown bowl", "purple block")

EXAMPLES = (
    Example(_SCENE, "the block closest to the purple bowl.",
            "block_names = [name for name in objects if name.endswith('block')]\n"
            "target = get_obj_pos('purple bowl')\n"
            "dists = [np.linalg.norm(get_obj_pos(name) - target) for name in block_names]\n"
            "ret_val = block_names[int(np.argmin(dists))]"),
    Example(_SCENE, "the bowls.",
            "ret_val = [name for name in objects if name.endswith('bowl')]"),
    Example(_SCENE, "the leftmost block.",
            "block_names = [name for name in objects if name.endswith('block')]\n"
            "ret_val = min(block_names, key=lambda name: get_obj_pos(name)[0])"),
)
