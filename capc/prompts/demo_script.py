"""What `capc demo` shows: a scene, four instructions, and the replies for them.

The replies below were WRITTEN BY THE CAPC AUTHORS to show every stage of the pipeline offline
(a plain policy, a policy the verifier rejects and its repair, a sub-LMP answered at compile
time, a helper function generated on demand). They are not the output of any language model.
`capc demo` replays them from the cassette shipped in `capc/prompts/data/demo_cassette.jsonl`,
which is built from this file:

    python -m capc.prompts.demo      # rewrite the cassette after a prompt change

`capc demo --live` sends the same instructions to a configured endpoint instead.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from capc.compiler.scene import load_scene
from capc.prompts.provider import Reply, Request, check_reply

CASSETTE = os.path.join(os.path.dirname(__file__), "data", "demo_cassette.jsonl")
# Shipped as a file so that `capc shell --demo` and anyone trying the cassette with
# `--scene` load the very scene the replies were written for.
SCENE_FILE = os.path.join(os.path.dirname(__file__), "data", "demo_scene.yaml")
DEMO_MODEL = "capc-demo-replies"
AUTHORSHIP = ("written by the capc authors for the offline demo; not the output of any language model")

SCENE = load_scene(SCENE_FILE)

INSTRUCTIONS = (
    "put the red block in the blue bowl",
    "put the green block 10cm to the right of the blue bowl",
    "put the yellow block in the bowl closest to it",
    "trace a small circle above the green block, slowly",
)

# (prompt kind, query, attempt) -> reply text
REPLIES: dict[tuple[str, str, int], str] = {
    ("policy", INSTRUCTIONS[0], 0):
        "put_first_on_second('red block', 'blue bowl')",
    # A plausible mistake: the blue bowl stands near the right edge, so 10 cm to its right is
    # off the workspace. The verifier finds the world (within perception tolerance) that shows it.
    ("policy", INSTRUCTIONS[1], 0):
        "bowl = get_obj_pos('blue bowl')\n"
        "put_first_on_second('green block', [bowl[0] + 0.1, bowl[1]])",
    ("policy", INSTRUCTIONS[1], 1):
        "bowl = get_obj_pos('blue bowl')\n"
        "say('there is no room 10cm right of the blue bowl, so the green block goes 10cm to its left')\n"
        "put_first_on_second('green block', [bowl[0] - 0.1, bowl[1]])",
    ("policy", INSTRUCTIONS[2], 0):
        "bowl_name = parse_obj_name('the bowl closest to the yellow block', f'objects = {objects}')\n"
        "put_first_on_second('yellow block', bowl_name)",
    ("parse_obj_name", "the bowl closest to the yellow block", 0):
        "bowl_names = [name for name in objects if name.endswith('bowl')]\n"
        "block_pos = get_obj_pos('yellow block')\n"
        "dists = [np.linalg.norm(get_obj_pos(name) - block_pos) for name in bowl_names]\n"
        "ret_val = bowl_names[int(np.argmin(dists))]",
    ("policy", INSTRUCTIONS[3], 0):
        "center = get_obj_pos('green block')\n"
        "circle_pts = make_circle(radius=0.04, center=center, n=12)\n"
        "move_to([center[0] + 0.04, center[1], 0.12], speed=0.1)\n"
        "follow_traj(circle_pts, speed=0.1)",
    ("function", "make_circle(radius, center, n)", 0):
        "def make_circle(radius, center, n):\n"
        "    angles = np.linspace(0, 2 * np.pi, n)\n"
        "    return np.array([[center[0] + radius * np.cos(a), center[1] + radius * np.sin(a)] for a in angles])",
}


@dataclass
class ScriptedProvider:
    """Answers from `REPLIES` by (prompt kind, query, attempt); used to (re)build the cassette."""

    replies: dict[tuple[str, str, int], str] = field(default_factory=lambda: dict(REPLIES))
    model: str = DEMO_MODEL
    name: str = "scripted"

    def fetch(self, request: Request) -> Reply:
        meta = request.meta
        key = (meta.get("lmp"), meta.get("query"), meta.get("attempt", 0))
        if key not in self.replies:
            raise KeyError(f"the demo script has no reply for {key}")
        text = self.replies[key]
        return Reply(text, "stop", text)

    def complete(self, request: Request) -> Reply:
        return check_reply(self.fetch(request))
