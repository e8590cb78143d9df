"""transform_shape_pts: an N x 2 array `pts` and a transformation in words in, new points out."""

from capc.prompts.fewshot import Example

_SCENE = ("red block", "blue bowl")

EXAMPLES = (
    Example(_SCENE, "rotate the points by 45 degrees around their centre.",
            "angle = np.pi / 4\n"
            "center = np.mean(pts, axis=0)\n"
            "rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])\n"
            "ret_val = (pts - center) @ np.transpose(rot) + center",
            given=("pts",)),
    Example(_SCENE, "move the points 5cm towards the top.",
            "ret_val = np.clip(pts + np.array([0.0, 0.05]), [-0.25, -0.75], [0.25, -0.25])", given=("pts",)),
    Example(_SCENE, "make the shape half as big.",
            "center = np.mean(pts, axis=0)\n"
            "ret_val = center + (pts - center) * 0.5", given=("pts",)),
)
