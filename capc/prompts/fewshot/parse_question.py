"""parse_question: a question about the scene in, an answer as text out (in `ret_val`)."""

from capc.prompts.fewshot import Example

_SCENE = ("red block", "yellow block", "blue bowl")

EXAMPLES = (
    Example(_SCENE, "how many blocks are there?",
            "ret_val = str(len([name for name in objects if name.endswith('block')]))"),
    Example(_SCENE, "is the red block to the left of the blue bowl?",
            "ret_val = 'yes' if get_obj_pos('red block')[0] < get_obj_pos('blue bowl')[0] else 'no'"),
)
