"""The cell's rules (capc.safety.rules, docs/rules.md): parsed with their place in the limits
file, proved or refuted by the verifier with counterexamples that replay on the kinematic
backend, and enforced by the monitor when a program runs unverified."""

from __future__ import annotations

import json

import pytest

from capc.compiler.frontend import compile_source
from capc.compiler.scene import parse_scene
from capc.diagnostics import InputError
from capc.prompts import prompt_builder as pb
from capc.runtime.execute import STATUS_COMPLETED, STATUS_STOPPED, execute
from capc.safety.spec import parse_spec
from capc.safety.verifier import verify
from capc.testing.running import replay_inputs, run_kinematic, scripted_perception

SCENE = parse_scene("""objects:
  - {name: red block, position: [0.2, -0.5]}
  - {name: green block, position: [-0.1, -0.35]}
  - {name: blue block, position: [0.05, -0.3]}
  - {name: blue bowl, position: [-0.15, -0.6]}
  - {name: red bowl, position: [0.1, -0.65]}
""")

LIMITS = {
    "carry_speed": "rules:\n  - carry: {object: red block, max_speed: 0.1}\n",
    "carry_height": "rules:\n  - carry: {max_height: 0.1}\n",
    "never_pick": "rules:\n  - never_pick: green block\n",
    "never_place": "rules:\n  - never_place: {on: red bowl}\n",
    "max_grasps": "rules:\n  - max_grasps: 2\n",
    "avoid": "rules:\n  - avoid: {object: red bowl, box: {x: [-0.08, 0.08], y: [-0.08, 0.08], z: [0, 0.1]}}\n",
    "release_height": "rules:\n  - release_height: {max: 0.01}\n",
    "at_end": "rules:\n  - at_end: {empty: blue bowl}\n",
    "avoid_holding": "rules:\n  - avoid: {box: {x: [-0.3, -0.1], y: [-0.8, -0.2], z: [0, 0.3]}, holding: anything}\n",
    "avoid_cylinder": "rules:\n  - avoid: {object: red bowl, cylinder: {radius: 0.08, z: [0, 0.1]}}\n",
    "never_hold_two": "rules:\n  - never: {event: close, while: {holding: anything}}\n",
    "never_move_home": "rules:\n  - never: {event: {move: home}, while: {holding: anything}}\n",
    "before_require": "rules:\n  - before: {event: {move: home}, require: {gripper: open}}\n",
    "before_first": "rules:\n  - before: {event: {grasp: blue block}, first: {release: red block}}\n",
    "always_height": "rules:\n  - always: {max_height: 0.12, while: {gripper: closed}}\n",
    "always_speed": "rules:\n  - always: {max_speed: 0.1, while: {gripper: closed}}\n",
    "at_end_state": "rules:\n  - at_end: {holding: nothing, gripper: open}\n",
}
HOME = "move_to([0.0, -0.5, 0.2])\n"
PLACES = ["blue bowl", "top left corner", "bottom left corner", "middle", "left side", "top side",
          "bottom side", "top right corner", "bottom right corner", "right side"]
BLOCKS = ["red block", "green block", "blue block"]


def _manual(obj_xy: str, dest: tuple[float, float], height: float, release_z: float = 0.021) -> str:
    """Pick the block at `obj_xy` and put it at `dest` by hand, travelling at `height`."""
    x, y = dest
    return (f"p = {obj_xy}\nmove_to([p[0], p[1], {height}])\nmove_to([p[0], p[1], 0.02])\nclose_gripper()\n"
            f"move_to([p[0], p[1], {height}])\nmove_to([{x}, {y}, {height}])\n"
            f"move_to([{x}, {y}, {release_z}])\nopen_gripper()\nmove_to([{x}, {y}, 0.1])\n")


def _over_bowl(dx: float, dy: float, z: float, straight: bool = True) -> str:
    """From above the red bowl, to (dx, dy) off its centre at height z: straight down a
    slant (`straight`), else across at 15 cm first and then down."""
    via = "p[0], p[1]" if straight else f"p[0] + {dx}, p[1] + {dy}"
    return (f"p = get_obj_pos('red bowl')\nmove_to([{via}, 0.15])\n"
            f"move_to([p[0] + {dx}, p[1] + {dy}, {z}])\n")


def _put(obj: str, dest: str, speed: float | None = None) -> str:
    return f"put_first_on_second({obj!r}, {dest!r}{'' if speed is None else f', speed={speed}'})\n"


def _grasp(obj: str, height: float = 0.1) -> str:
    """Take `obj` by hand, coming down from `height` (four lines; the closing is the last)."""
    return (f"p = get_obj_pos({obj!r})\nmove_to([p[0], p[1], {height}])\nmove_to([p[0], p[1], 0.02])\n"
            f"close_gripper()\n")


# Ten unsafe and ten safe programs per rule kind: the unsafe one's offending call is on `line`.
UNSAFE = {
    "carry_speed": [(_put("red block", d, s), 1) for d, s in zip(PLACES, [None, 0.25, 0.2, 0.15, 0.12, 0.11,
                                                                       0.101, 0.18, 0.22, 0.13])],
    "carry_height": [(_put(b, d), 1) for b, d in zip(BLOCKS * 2, PLACES[:6])]
    + [(_manual("get_obj_pos('red block')", (0.0, -0.4), h), 5) for h in (0.11, 0.12, 0.15, 0.2)],
    "never_pick": [(_put("green block", d, s), 1) for d, s in zip(PLACES[:8], [None, 0.1] * 4)]
    + [(_manual("get_obj_pos('green block')", (0.0, -0.4), 0.1), 4),
       (f"say('hi')\n{_put('red block', 'middle')}{_put('green block', 'red block')}", 3)],
    "never_place": [(_put(b, "red bowl", s), 1) for b, s in zip(BLOCKS * 2, [None, 0.1, 0.05, 0.2, 0.15, 0.12])]
    + [(_manual("get_obj_pos('red block')", (0.1 + dx, -0.65 + dy), 0.1, 0.03), 8)
       for dx, dy in ((0.0, 0.0), (0.02, 0.0), (0.0, -0.03), (-0.02, 0.02))],
    "max_grasps": [(f"for i in range({n}):\n    {_put('red block', PLACES[0])}", 2) for n in range(3, 8)]
    + [(_put("red block", "middle") + _put("blue block", "left side") + _put("green block", d), 3)
       for d in PLACES[:5]],
    "avoid": [(_over_bowl(dx, dy, z), 3) for dx, dy, z in ((0.0, 0.0, 0.05), (0.05, 0.0, 0.02), (0.0, -0.06, 0.09),
                                                          (-0.07, 0.07, 0.01), (0.03, 0.03, 0.06), (0.0, 0.07, 0.08))]
    + [(_put(b, "red bowl"), 1) for b in BLOCKS] + [(f"if True:\n    {_put('red block', 'red bowl', 0.1)}", 2)],
    "release_height": [(_manual(f"get_obj_pos({b!r})", (0.0, -0.45), 0.15, z), 8)
                       for b in ("red block", "blue block") for z in (0.04, 0.06, 0.1, 0.14)]
    + [(f"put_first_on_second('red block', [0.0, -0.45, {z}])\n", 1) for z in (0.05, 0.1)],
    "at_end": [(_put(b, "blue bowl", sp), 1) for b in BLOCKS for sp in (None, 0.1)]
    + [(_put("red block", "blue bowl") + _put("blue block", d), 2) for d in ("middle", "top side")]
    + [(f"for b in {BLOCKS!r}:\n    {_put('b', 'blue bowl')}say('done')\n".replace("'b'", "b"), 3),
       (_put("red block", "blue bowl") + _put("blue block", "red block"), 2)],
    "avoid_holding": [(_put(b, d), 1) for b in ("red block", "blue block")
                      for d in ("top left corner", "left side", "bottom left corner", "blue bowl")]
    + [(_manual("get_obj_pos('red block')", (-0.2, -0.5), 0.1), 6),
       (_manual("get_obj_pos('blue block')", (-0.15, -0.7), 0.08), 6)],
}
UNSAFE |= {
    "avoid_cylinder": UNSAFE["avoid"],
    # a second closing while the gripper holds something: after `_grasp`, on its line + 1
    "never_hold_two": [(_grasp(b) + "close_gripper()\n", 5) for b in BLOCKS]
    + [(_grasp(b) + f"move_to([{x}, {y}, 0.1])\nclose_gripper()\n", 6)
       for b, (x, y) in zip(BLOCKS * 2, ((0.0, -0.4), (-0.2, -0.7), (0.1, -0.45), (0.2, -0.3), (-0.1, -0.6), (0.0, -0.5)))]
    + [(_grasp("red block") + "say('again')\nfor i in range(2):\n    close_gripper()\n", 7)],
    "never_move_home": [(_grasp(b) + HOME, 5) for b in BLOCKS]
    + [(_grasp("red block") + f"move_to([{x}, {y}, {z}])\n", 5)
       for x, y, z in ((0.005, -0.5, 0.2), (0.0, -0.495, 0.205), (-0.009, -0.509, 0.191), (0.0, -0.5, 0.195))]
    + [(_grasp(b) + "move_to([0.0, -0.4, 0.15])\n" + HOME, 6) for b in BLOCKS],
    "before_require": [("close_gripper()\n" + HOME, 2), ("close_gripper()\nmove_to([0.1, -0.4, 0.15])\n" + HOME, 3)]
    + [(_grasp(b) + HOME, 5) for b in BLOCKS]
    + [(_put(b, "middle") + "close_gripper()\n" + HOME, 3) for b in BLOCKS]
    + [(f"move_to([0.0, -0.5, {z}])\nclose_gripper()\nmove_to([0.001, -0.501, 0.2])\n", 3) for z in (0.1, 0.25)],
    "before_first": [(_put("blue block", d), 1) for d in PLACES[:5]]
    + [(_put("green block", "middle") + _put("blue block", d), 2) for d in PLACES[5:8]]
    + [(_manual("get_obj_pos('blue block')", (0.0, -0.4), 0.1), 4),
       (_put("blue block", "red block") + _put("red block", "middle"), 1)],
    "always_height": [("close_gripper()\n", 1), (_manual("get_obj_pos('red block')", (0.0, -0.4), 0.15), 5)]
    + [(_put(b, d), 1) for b, d in zip(BLOCKS * 2, PLACES[:6])]
    + [(f"move_to([0.0, -0.5, 0.1])\nclose_gripper()\nmove_to([0.0, -0.5, {z}])\n", 3) for z in (0.13, 0.2)],
    "always_speed": [(_put(b, d, sp), 1) for b, d, sp in zip(BLOCKS * 3, PLACES, [None, 0.2, 0.15, 0.11, 0.25, 0.12,
                                                                                    0.101, 0.18, 0.22])]
    + [("close_gripper()\nmove_to([0.1, -0.4, 0.2], speed=0.15)\n", 2)],
    "at_end_state": [(_grasp(b), 4) for b in BLOCKS] + [(_grasp(b) + "move_to([0.0, -0.4, 0.1])\n", 5) for b in BLOCKS]
    + [("close_gripper()\n", 1), (_put("red block", "middle") + "close_gripper()\n", 2),
       (_put("red block", "middle") + "move_to([0.0, -0.4, 0.1])\nclose_gripper()\nsay('done')\n", 4),
       ("for i in range(3):\n    move_to([0.0, -0.4, 0.1])\nclose_gripper()\n", 3)],
}
SAFE = {
    "carry_speed": [(_put("red block", d, s)) for d, s in zip(PLACES, [0.1, 0.05, 0.09, 0.1, 0.02, 0.07,
                                                                        0.1, 0.03, 0.08, 0.1])]
    + [_put("green block", "middle"), _put("blue block", "left side", 0.25)],
    "carry_height": [_manual(f"get_obj_pos({b!r})", d, h) for b in BLOCKS
                     for d, h in (((0.0, -0.4), 0.095), ((-0.2, -0.7), 0.08), ((0.2, -0.25), 0.05))]
    + ["move_to([0.0, -0.5, 0.25])\nmove_to([0.1, -0.4, 0.28])\n"],
    "never_pick": [_put(b, d) for b in ("red block", "blue block") for d in PLACES[:5]]
    + [_put("red block", "green block"), _manual("get_obj_pos('blue block')", (0.0, -0.45), 0.12)],
    "never_place": [_put(b, d) for b in BLOCKS for d in PLACES[:4]]
    + [_manual("get_obj_pos('red block')", (0.1 + dx, -0.65), 0.1, 0.03) for dx in (0.1, -0.1)],
    "max_grasps": [_put(b, d) for b in BLOCKS for d in PLACES[:3]]
    + [_put("red block", "middle") + _put("blue block", "top left corner"), "move_to([0.0, -0.4, 0.1])\n"],
    "avoid": [_over_bowl(dx, dy, 0.02, False) for dx, dy in ((0.15, 0.0), (-0.15, 0.0), (0.0, 0.15), (0.12, 0.12))]
    + [_over_bowl(0.0, 0.0, 0.15), _over_bowl(0.05, 0.05, 0.12)]
    + [_put("red block", d) for d in ("blue bowl", "bottom right corner", "middle", "top side")],
    "release_height": [_put(b, d) for b in ("red block", "blue block") for d in ("blue bowl", "middle", "green block")]
    + [_manual("get_obj_pos('red block')", (0.0, -0.45), 0.15, z) for z in (0.021, 0.025)]
    + ["put_first_on_second('blue block', [0.0, -0.45, 0.025])\n", "move_to([0.0, -0.45, 0.1])\nopen_gripper()\n"],
    "at_end": [_put(b, d) for b in BLOCKS for d in ("middle", "red bowl", "top side")]
    + [_put("red block", "blue bowl") + _put("red block", "middle"), "say('nothing moves')\n"],
    "avoid_holding": [_put(b, d) for b in ("red block", "blue block")
                      for d in ("top right corner", "right side", "bottom right corner", "middle")]
    + ["move_to([-0.2, -0.5, 0.1])\nmove_to([-0.25, -0.7, 0.05])\n",
       _manual("get_obj_pos('red block')", (0.1, -0.4), 0.1)],
}


SAFE |= {
    "avoid_cylinder": SAFE["avoid"],
    "never_hold_two": [_put(b, d) + _put(b2, d2) for b, d, b2, d2 in (("red block", "middle", "blue block", "top side"),
                                                                      ("green block", "left side", "red block", "blue bowl"),
                                                                      ("blue block", "red bowl", "green block", "middle"))]
    + [_manual(f"get_obj_pos({b!r})", (0.0, -0.4), 0.1) for b in BLOCKS]
    + [_grasp(b) + "open_gripper()\nclose_gripper()\n" for b in BLOCKS]
    + ["close_gripper()\nclose_gripper()\nmove_to([0.0, -0.4, 0.1])\nclose_gripper()\n"],
    "never_move_home": [_put(b, "middle") + HOME for b in BLOCKS]
    + [_grasp(b) + "move_to([0.0, -0.5, 0.15])\nmove_to([0.03, -0.5, 0.2])\n" for b in BLOCKS]
    + [HOME + _put("red block", "top side") + HOME, _manual("get_obj_pos('red block')", (0.0, -0.4), 0.1) + HOME,
       "close_gripper()\n" + HOME, _grasp("blue block") + "move_to([0.0, -0.5, 0.185])\n"],
    "before_require": [HOME, "open_gripper()\n" + HOME, "close_gripper()\nopen_gripper()\n" + HOME]
    + [_put(b, d) + HOME for b, d in (("red block", "middle"), ("blue block", "top left corner"), ("green block", "blue bowl"))]
    + [_grasp(b) + "move_to([0.0, -0.4, 0.2])\nopen_gripper()\n" + HOME for b in BLOCKS]
    + ["close_gripper()\nmove_to([0.0, -0.5, 0.17])\n"],
    "before_first": [_put("red block", d) + _put("blue block", d2) for d, d2 in (("middle", "top side"), ("left side", "red block"),
                                                                                 ("blue bowl", "right side"))]
    + [_put(b, d) for b in ("red block", "green block") for d in PLACES[:3]]
    + [_manual("get_obj_pos('red block')", (0.0, -0.4), 0.1) + _put("blue block", "middle"),
       "move_to([0.05, -0.3, 0.1])\n"],
    "always_height": [_manual(f"get_obj_pos({b!r})", d, h) for b in BLOCKS for d, h in (((0.0, -0.4), 0.1), ((-0.2, -0.7), 0.08))]
    + ["move_to([0.0, -0.5, 0.25])\nmove_to([0.1, -0.4, 0.28])\n", "move_to([0.0, -0.5, 0.1])\nclose_gripper()\n",
       "move_to([0.0, -0.5, 0.1])\nclose_gripper()\nmove_to([0.1, -0.4, 0.115])\nopen_gripper()\nmove_to([0.1, -0.4, 0.25])\n",
       _manual("get_obj_pos('red block')", (0.0, -0.4), 0.11)],
    "always_speed": [_put(b, d, sp) for b, d, sp in zip(BLOCKS * 3, PLACES, [0.1, 0.05, 0.09, 0.1, 0.02, 0.07, 0.1, 0.03, 0.08])]
    + ["move_to([0.1, -0.4, 0.2], speed=0.25)\nclose_gripper()\nmove_to([0.1, -0.45, 0.2], speed=0.1)\n"],
    "at_end_state": [_put(b, d) for b in BLOCKS for d in ("middle", "top side")]
    + [_manual(f"get_obj_pos({b!r})", (0.0, -0.4), 0.1) for b in BLOCKS]
    + ["close_gripper()\nopen_gripper()\n", "say('nothing moves')\n"],
}


def _spec(kind: str):
    return parse_spec(LIMITS[kind], "cell.yaml")


def _cases(table):
    return [pytest.param(kind, case, id=f"{kind}-{i}") for kind, cases in table.items() for i, case in enumerate(cases)]


def test_ten_of_each():
    for kind in LIMITS:
        assert len(UNSAFE[kind]) >= 10 and len(SAFE[kind]) >= 10, kind


@pytest.mark.parametrize("kind,case", _cases(UNSAFE))
def test_unsafe_is_rejected_with_a_replayed_counterexample_and_stopped_unverified(kind, case):
    source, line = case
    program = compile_source(source, "policy.py")
    spec = _spec(kind)
    report = verify(program, spec, SCENE)
    assert report.verdict == "rejected", (report.summary(), [d.message for d in report.diagnostics()])
    broken = [o for o in report.violated() if o.property == "rule:cell.yaml:2"]
    assert broken, [o.message for o in report.violated()]
    first = broken[0]
    assert first.code == "E310" and first.span.line == line
    assert first.counterexample["replayed"] is True
    diag = next(d for d in report.diagnostics() if d.code == "E310")
    assert "cell.yaml:2" in diag.message and "the rule says" in diag.message
    # run unverified: the monitor stops it, for this rule, at the same call. The programs are
    # about rules, not about sweeping the hand past objects: the predicted collisions (E525,
    # tests/test_outcomes.py) are recorded here without stopping the run.
    outcome = execute(program, SCENE, spec, outcome_stops=False)
    assert outcome.status == STATUS_STOPPED and outcome.code == "E515", outcome.message
    assert outcome.monitor_events[-1]["limit"] == "rule:cell.yaml:2"
    assert outcome.monitor_events[-1]["line"] == line
    # and on the kinematic backend in the counterexample's world (objects where it puts them,
    # the camera answering what it chose), the monitor stops the reported call for this rule
    inputs = replay_inputs(first, SCENE, first.counterexample)
    with scripted_perception(inputs):
        replayed = run_kinematic(program, inputs.world, spec)
    assert replayed.monitor_events[-1]["limit"] == "rule:cell.yaml:2", replayed.message
    assert replayed.monitor_events[-1]["line"] == line


@pytest.mark.parametrize("kind,case", _cases(SAFE))
def test_safe_is_accepted_and_runs(kind, case):
    program = compile_source(case, "policy.py")
    spec = _spec(kind)
    report = verify(program, spec, SCENE)
    assert report.verdict == "accepted", (report.summary(), [d.message for d in report.diagnostics()])
    outcome = execute(program, SCENE, spec, outcome_stops=False)  # E525 aside, as above
    assert outcome.status == STATUS_COMPLETED, outcome.message


def test_scene_free_proof_covers_the_rules_objects():
    # The policy never names the red bowl; scene-free, a table with one is among those proved.
    program = compile_source("move_to([0.1, -0.65, 0.2])\nclose_gripper()\n"
                             "move_to([0.1, -0.65, 0.03])\nopen_gripper()\n", "policy.py")
    report = verify(program, _spec("never_place"), any_scene=True)
    assert "red bowl" in report.objects


def test_scene_free_put_into_a_protected_bowl_is_rejected():
    program = compile_source(_put("red block", "red bowl"), "policy.py")
    report = verify(program, _spec("never_place"), any_scene=True)
    assert report.verdict == "rejected"
    assert report.violated()[0].counterexample["replayed"] is True


@pytest.mark.parametrize("text,where,words", [
    ("rules: {never_pick: knife}\n", 1, "expected a list of rules"),
    ("rules:\n  - never_pick: knife\n  - carry: {max_speed: -1}\n", 3, "out of range"),
    ("rules:\n  - {never_pick: knife, max_grasps: 2}\n", 2, "exactly one of"),
    ("rules:\n  - never_place: {object: cup}\n", 2, "missing key 'on'"),
    ("rules:\n  - carry: {object: cup}\n", 2, "max_speed and/or max_height"),
    ("rules:\n  - max_grasps: 1.5\n", 2, "whole number"),
    ("rules:\n  - never_pick: \"a\\nb\"\n", 2, "one line"),
    ("rules:\n  - forbid: knife\n", 2, "unknown key 'forbid'"),
    ("rules:\n  - avoid: {object: laptop}\n", 2, "exactly one of 'box' or 'cylinder'"),
    ("rules:\n  - release_height: {max: 2}\n", 2, "out of range"),
    ("rules:\n  - avoid: {box: {x: [0, 1], y: [1, 0], z: [0, 1]}}\n", 2, "interval is empty"),
    ("rules:\n  - avoid: {cylinder: {radius: 0.1, z: [0, 1]}}\n", 2, "missing key 'center'"),
    ("rules:\n  - avoid: {object: pan, cylinder: {radius: 0, z: [0, 1]}}\n", 2, "radius must be positive"),
    ("rules:\n  - never: {while: {holding: anything}}\n", 2, "missing key 'event'"),
    ("rules:\n  - never:\n      event: jump\n", 3, "not an event"),
    ("rules:\n  - never: {event: {move: the moon}}\n", 2, "a move event goes to home"),
    ("rules:\n  - before: {event: close}\n", 2, "exactly one of 'require'"),
    ("rules:\n  - before: {event: close, first: {move: home}}\n", 2, "a 'first' event is a gripper event"),
    ("rules:\n  - before: {event: close, require: {gripper: ajar}}\n", 2, "open or closed"),
    ("rules:\n  - always: {max_height: 0.2}\n", 2, "missing key 'while'"),
    ("rules:\n  - always: {while: {holding: cup}}\n", 2, "max_speed and/or max_height"),
    ("rules:\n  - at_end: {empty: sink, holding: nothing}\n", 2, "either {empty: X} or a state"),
    ("rules:\n  - at_end: {}\n", 2, "a state needs"),
])
def test_bad_rules_are_located_input_errors(text, where, words):
    with pytest.raises(InputError) as info:
        parse_spec(text, "cell.yaml")
    assert words in str(info.value)
    assert info.value.span.line == where


def test_rules_survive_the_specs_json_with_their_labels():
    spec = parse_spec("rules:\n  - carry: {object: cup, max_speed: 0.1, max_height: 0.2}\n"
                      "  - never_place: {object: red block, on: green block}\n  - max_grasps: 4\n"
                      "  - avoid: {object: laptop, box: {x: [-0.1, 0.1], y: [-0.1, 0.1], z: [0, 0.1]}}\n"
                      "  - avoid: {box: {x: [0, 0.1], y: [-0.5, -0.4], z: [0, 0.3]}, holding: cup}\n"
                      "  - release_height: {object: glass, max: 0.02}\n  - at_end: {empty: sink}\n"
                      "  - avoid: {object: pan, cylinder: {center: [0.01, 0], radius: 0.1, z: [0, 0.15]}}\n"
                      "  - never: {event: close, while: {holding: anything, gripper: closed}}\n"
                      "  - before: {event: {move: home}, require: {gripper: open}}\n"
                      "  - before: {event: {grasp: anything}, first: {release: cup}}\n"
                      "  - never: {event: {move: {cylinder: {center: [0, -0.5], radius: 0.05, z: [0, 0.1]}}}}\n"
                      "  - always: {max_speed: 0.1, max_height: 0.2, while: {holding: nothing}}\n"
                      "  - at_end: {gripper: open}\n  - never: {event: open}\n", "cell.yaml")
    assert [r.label for r in spec.rules] == ["cell.yaml:2", "cell.yaml:2", "cell.yaml:3", "cell.yaml:4",
                                             "cell.yaml:5", "cell.yaml:6", "cell.yaml:7", "cell.yaml:8",
                                             "cell.yaml:9", "cell.yaml:10", "cell.yaml:11", "cell.yaml:12",
                                             "cell.yaml:13", "cell.yaml:14", "cell.yaml:14", "cell.yaml:15",
                                             "cell.yaml:16"]
    again = parse_spec(json.dumps(spec.to_json()), "<audit #1 limits>")
    assert again.rules == spec.rules


def test_the_prompt_states_the_rules_in_words():
    spec = parse_spec("rules:\n  - carry: {object: glass, max_speed: 0.1}\n  - never_pick: knife\n"
                      "  - never_place: {on: red bowl}\n", "cell.yaml")
    system = pb.policy_prompt("x", ["red block"], spec=spec).messages[0][1]
    assert ("carry the glass at most 0.1 m/s; never pick up the knife; never put anything in or on the red bowl"
            in system)
    spec = parse_spec("rules:\n  - before: {event: {move: home}, require: {gripper: open}}\n"
                      "  - never: {event: close, while: {holding: anything}}\n"
                      "  - always: {max_height: 0.2, while: {holding: glass}}\n"
                      "  - before: {event: {grasp: blue block}, first: {release: red block}}\n"
                      "  - at_end: {holding: nothing}\n"
                      "  - avoid: {object: blue bowl, cylinder: {radius: 0.08, z: [0, 0.15]}}\n", "cell.yaml")
    system = pb.policy_prompt("x", ["red block"], spec=spec).messages[0][1]
    for words in ("the gripper is open before any move to the home pose",
                  "never close the gripper while holding something",
                  "while holding the glass, keep the gripper at most 0.2 m above the table",
                  "no grasp of the blue block before the first release of the red block",
                  "when the program ends, the gripper holds nothing",
                  "keep the gripper out of the cylinder of radius 0.08 around (0, 0), z 0..0.15 around the blue bowl"):
        assert words in system, words


def test_check_names_the_rule_and_audit_show_shows_it(tmp_path, capsys):
    from capc.cli import main

    (tmp_path / "cell.yaml").write_text("max_speed: 0.25\nrules:\n  - carry: {object: red block, max_speed: 0.1}\n"
                                        "  - never_place: {on: blue bowl}\n")
    (tmp_path / "p.py").write_text("say('go')\nput_first_on_second('red block', 'blue bowl', speed=0.1)\n")
    (tmp_path / "scene.yaml").write_text("objects:\n  - {name: red block, position: [0.2, -0.5]}\n"
                                         "  - {name: blue bowl, position: [-0.15, -0.6]}\n")
    db = tmp_path / "a.db"
    code = main(["check", str(tmp_path / "p.py"), "--scene", str(tmp_path / "scene.yaml"),
                 "--limits", str(tmp_path / "cell.yaml"), "--audit-db", str(db)])
    captured = capsys.readouterr()
    out = captured.out + captured.err
    assert code == 1
    assert "error[E310]" in out and "cell.yaml:4" in out and "p.py:2:1" in out
    assert main(["audit", "--audit-db", str(db), "show", "1"]) == 0
    shown = capsys.readouterr().out
    assert "violated: put_first_on_second (release) rule:cell.yaml:4 at line 2:1" in shown
    assert "never put anything in or on the blue bowl" in shown


def test_a_motion_known_only_at_run_time_leaves_the_rest_of_the_path_guarded():
    # After it, what the gripper holds is unknown: no later command may be proved against a rule.
    source = ("name = parse_obj_name('the block on the left')\nput_first_on_second(name, 'middle')\n"
              "move_to([0.0, -0.5, 0.25])\n")
    report = verify(compile_source(source, "policy.py"), _spec("carry_speed"), SCENE)
    assert report.verdict == "guarded"
    assert not any(o.verdict == "proved" and o.span.line == 3 for o in report.obligations)
    assert any(o.role == "rest of path" for o in report.obligations)


def test_an_always_rule_in_force_from_the_start_bounds_the_home_pose():
    # The gripper is open at the start, at home (z = 0.2): the first move starts above 0.15.
    spec = parse_spec("rules:\n  - always: {max_height: 0.15, while: {gripper: open}}\n", "cell.yaml")
    program = compile_source("say('go')\nmove_to([0.0, -0.45, 0.1])\n", "policy.py")
    report = verify(program, spec, SCENE)
    assert report.verdict == "rejected"
    broken = report.violated()[0]
    assert broken.property == "rule:cell.yaml:2" and broken.span.line == 2
    assert broken.counterexample["replayed"] is True
    outcome = execute(program, SCENE, spec)
    assert outcome.status == STATUS_STOPPED and outcome.monitor_events[-1]["limit"] == "rule:cell.yaml:2"
    assert outcome.monitor_events[-1]["line"] == 2


def test_check_and_audit_name_a_broken_order_rule(tmp_path, capsys):
    from capc.cli import main

    (tmp_path / "cell.yaml").write_text("rules:\n  - never: {event: close, while: {holding: anything}}\n"
                                        "  - before: {event: {move: home}, require: {gripper: open}}\n")
    (tmp_path / "p.py").write_text("put_first_on_second('red block', 'middle')\nclose_gripper()\n"
                                   "move_to([0.0, -0.5, 0.2])\n")
    (tmp_path / "scene.yaml").write_text("objects:\n  - {name: red block, position: [0.2, -0.5]}\n")
    db = tmp_path / "a.db"
    code = main(["check", str(tmp_path / "p.py"), "--scene", str(tmp_path / "scene.yaml"),
                 "--limits", str(tmp_path / "cell.yaml"), "--audit-db", str(db)])
    out = "".join(capsys.readouterr())
    assert code == 1 and "error[E310]" in out and "cell.yaml:3" in out and "p.py:3:1" in out
    assert main(["audit", "--audit-db", str(db), "show", "1"]) == 0
    shown = capsys.readouterr().out
    assert "violated: move_to (move) rule:cell.yaml:3 at line 3:1" in shown
    assert "the gripper is open before any move to the home pose" in shown
    # run unverified (the runtime's own entry: `capc run` verifies whenever a verifier is installed)
    outcome = execute(compile_source((tmp_path / "p.py").read_text(), "p.py"),
                      parse_scene((tmp_path / "scene.yaml").read_text()), parse_spec((tmp_path / "cell.yaml").read_text(),
                                                                                     "cell.yaml"))
    assert outcome.code == "E515" and outcome.monitor_events[-1]["limit"] == "rule:cell.yaml:3"


EXAMPLE_RULES = """rules:
  - carry: {max_speed: 0.25, max_height: 0.25}
  - always: {max_speed: 0.25, max_height: 0.28, while: {gripper: closed}}
  - never_pick: knife
  - never_place: {on: red bowl}
  - max_grasps: 20
  - release_height: {max: 0.05}
  - at_end: {empty: red bowl}
  - at_end: {holding: nothing}
  - avoid: {object: blue bowl, cylinder: {radius: 0.03, z: [0.2, 0.25]}}
  - avoid: {object: red block, box: {x: [-0.02, 0.02], y: [-0.02, 0.02], z: [0.2, 0.25]}}
  - avoid: {box: {x: [0.25, 0.3], y: [-0.25, -0.2], z: [0, 0.3]}, holding: anything}
  - never: {event: close, while: {holding: anything}}
  - never: {event: {move: home}, while: {holding: anything}}
  - before: {event: {move: home}, require: {gripper: open}}
  - before: {event: {grasp: anything}, first: open}
"""


def test_no_rule_runs_the_verifier_past_its_budget_on_the_examples():
    from pathlib import Path

    from capc.compiler.scene import load_scene
    from capc.safety.obligations import CODE_BUDGET, CODE_WALL_CLOCK

    spec = parse_spec(EXAMPLE_RULES, "cell.yaml")
    folder = Path(__file__).parent.parent / "examples"
    examples = sorted(p for p in folder.glob("*.py") if p.with_suffix(".scene.yaml").exists())
    assert len(examples) >= 15
    for path in examples:
        report = verify(compile_source(path.read_text(), str(path)), spec, load_scene(str(path.with_suffix(".scene.yaml"))))
        assert report.budget["ran_out"] is None, (path, report.budget)
        assert not [o for o in report.obligations if o.code in (CODE_BUDGET, CODE_WALL_CLOCK)], path


def test_the_generator_draws_every_kind_and_each_reads_back():
    # capc.testing draws every rule kind, so the soundness soak covers them; each rule's
    # limits-file form (to_json) reads back to the same rule
    from capc.safety.rules import Rule
    from capc.testing.strategies import rules_from_seed

    def kind(rule: Rule) -> str:
        if rule.state is not None and rule.kind.startswith("carry"):
            return "always"
        if rule.kind == "avoid":
            return f"avoid {type(rule.box).__name__}"
        if rule.kind == "before":
            return "before first" if rule.first is not None else "before require"
        if rule.event is not None:
            return f"never {rule.event.kind}" + (" home" if rule.event.home else "")
        return rule.kind

    seen = set()
    for seed in range(300):
        rules = rules_from_seed(seed, ["red block", "blue bowl"])
        seen |= {kind(r) for r in rules}
        text = "rules:\n" + "".join(f"  - {json.dumps(r.to_json())}\n" for r in rules)
        assert parse_spec(text, "<generated>").rules == rules
    assert seen >= {"carry_speed", "carry_height", "never_pick", "never_place", "max_grasps", "release_height",
                    "empty_at_end", "end_state", "always", "avoid Box", "avoid Cylinder", "before first",
                    "before require", "never close", "never open", "never grasp", "never release", "never move",
                    "never move home"}, seen
