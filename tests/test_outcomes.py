"""Observed outcomes (capc.runtime.outcomes) and the one world model of placing onto an
occupied point: the plan, the kinematic backend, the verifier and the sim agree."""

from __future__ import annotations

import pytest

from capc.compiler.frontend import compile_source
from capc.compiler.scene import parse_scene
from capc.compiler.tabletop import CELL
from capc.runtime.execute import execute
from capc.runtime.kinematic import KinematicBackend
from capc.runtime.outcomes import (
    E_DISTURBED, E_GRASP_EMPTY, E_GRASP_LOST, E_MISPLACED, E_OBSTRUCTED, E_UNREACHED, STATUS_GRASP_FAILED,
    STATUS_MISPLACED, STATUS_OBSTRUCTED, STATUS_UNREACHABLE,
)
from capc.safety.spec import default_spec
from capc.safety.verifier import verify

SPEC = default_spec()
STACK_SCENE = parse_scene("""
objects:
  - {name: red block, position: [-0.15, -0.40]}
  - {name: green block, position: [0.0, -0.35]}
  - {name: blue block, position: [-0.1, -0.6]}
  - {name: blue bowl, position: [0.1, -0.45]}
""")
STACK = """blocks = [n for n in get_obj_names() if 'block' in n]
for b in blocks:
    put_first_on_second(b, [0.2, -0.7])
"""
TWO = parse_scene("""
objects:
  - {name: red block, position: [0.0, -0.5]}
  - {name: blue bowl, position: [0.15, -0.5]}
""")


def run(source: str, scene, backend="kinematic", **options):
    return execute(compile_source(source, "<test>"), scene, SPEC, backend=backend, **options)


def assert_stacked(outcome) -> None:
    heights = sorted(pos[2] for name, pos in outcome.final_positions.items() if "block" in name)
    assert heights == pytest.approx([0.02, 0.06, 0.10], abs=0.004), outcome.final_positions
    for name, (x, y, _) in outcome.final_positions.items():
        if "block" in name:
            assert (x, y) == pytest.approx((0.2, -0.7), abs=0.006), name


def test_three_blocks_put_on_one_point_stack_on_the_kinematic_backend_as_proved():
    report = verify(compile_source(STACK, "<test>"), SPEC, STACK_SCENE)
    assert report.verdict == "accepted"
    outcome = run(STACK, STACK_SCENE)
    assert outcome.status == "completed" and outcome.outcome_events == []
    assert_stacked(outcome)


def test_a_block_put_on_a_named_stack_goes_on_its_top():
    source = ("put_first_on_second('green block', 'red block')\n"
              "put_first_on_second('blue block', 'red block')\n")
    outcome = run(source, STACK_SCENE)
    assert outcome.final_positions["blue block"][2] == pytest.approx(0.10)
    assert outcome.final_positions["green block"][2] == pytest.approx(0.06)


class _Fumbling(KinematicBackend):
    """A kinematic backend whose grasps close on nothing, or that drops what it carries, or
    whose releases slide: to drive the observer without physics."""

    def __init__(self, fault: str):
        super().__init__()
        self.fault = fault

    def set_gripper(self, close: bool):
        if close and self.fault == "empty":
            return None
        held = super().set_gripper(close)
        if not close and self.fault == "slide":
            name = min(self._objects, key=lambda n: abs(self._objects[n][0] - self._tcp[0]))
            self._objects[name][0] += 0.03
        return held

    def send_setpoint(self, tcp, dt):
        super().send_setpoint(tcp, dt)
        if self.fault == "drop" and self._held is not None and tcp[2] > 0.1:
            self._objects[self._held][2] = CELL.resting_z("block")
            self._held = None


@pytest.mark.parametrize("fault, status, code", [
    ("empty", STATUS_GRASP_FAILED, E_GRASP_EMPTY),
    ("drop", STATUS_GRASP_FAILED, E_GRASP_LOST),
    ("slide", STATUS_MISPLACED, E_MISPLACED),
])
def test_an_outcome_the_plan_did_not_mean_stops_the_run_with_its_code(fault, status, code):
    source = "say('moving the red block')\nput_first_on_second('red block', [0.1, -0.7])\nsay('done')\n"
    outcome = run(source, TWO, backend=_Fumbling(fault))
    assert (outcome.status, outcome.code) == (status, code)
    assert outcome.diagnostic.span.line == 2 and outcome.said == ["moving the red block"]
    assert [e["code"] for e in outcome.outcome_events] == [code]
    assert outcome.to_json()["outcome_events"][0]["object"] == "red block"


def test_an_object_knocked_by_the_arm_is_reported_once_and_the_run_goes_on():
    class Knocking(KinematicBackend):
        def send_setpoint(self, tcp, dt):
            super().send_setpoint(tcp, dt)
            if abs(tcp[0] - 0.15) < 0.01 and tcp[2] < 0.1:
                self._objects["blue bowl"][1] = -0.55  # swept 5 cm by the passing arm

    source = "move_to([0.15, -0.5, 0.05])\nmove_to([0.15, -0.6, 0.05])\nmove_to([0.0, -0.5, 0.2])\n"
    outcome = run(source, TWO, backend=Knocking())
    assert outcome.status == "completed"
    assert [(e["code"], e["object"], e["line"]) for e in outcome.outcome_events] == [
        (E_DISTURBED, "blue bowl", 1)]


def test_the_kinematic_backend_reports_nothing_on_the_examples_stack():
    outcome = run(STACK, STACK_SCENE)
    assert outcome.to_json()["outcome_events"] == []


# Motions that would run the gripper or what it holds into an object (E525), each stopped
# before its segment is sent: (source, scene, the object run into, the plan step).
ON_TOP = parse_scene("""
objects:
  - {name: red block, position: [0.0, -0.5, 0.02]}
  - {name: green block, position: [0.0, -0.5, 0.06]}
  - {name: blue bowl, position: [0.15, -0.6]}
""")
OBSTRUCTED = (
    ("move_to([0.05, -0.47, 0.03])\nmove_to([-0.1, -0.47, 0.03])\n", TWO, "red block", 2),  # a finger sweeps low over the table
    ("put_first_on_second('red block', [-0.2, -0.3])\n", ON_TOP, "green block", 1),      # a block under another
    ("put_first_on_second('red block', [0.2, -0.5])\n", TWO, "blue bowl", 1),             # let go over a bowl's rim
    ("put_first_on_second('blue bowl', 'red block')\n", TWO, "red block", 1),             # a bowl put down on a block
)


@pytest.mark.parametrize("source, scene, hit, line", OBSTRUCTED)
def test_a_motion_into_an_object_stops_before_its_segment_is_sent(source, scene, hit, line):
    outcome = run(source, scene)
    assert (outcome.status, outcome.code) == (STATUS_OBSTRUCTED, E_OBSTRUCTED), outcome.message
    assert outcome.diagnostic.span.line == line and repr(hit) in outcome.message
    assert [(e["code"], e["object"]) for e in outcome.outcome_events] == [(E_OBSTRUCTED, hit)]
    # Nothing was pushed: every object not held is where the scene put it.
    held = {e["held"] for e in outcome.gripper_events} - {None}
    for obj in scene.objects:
        if obj.name not in held:
            assert outcome.final_positions[obj.name] == pytest.approx(list(obj.position)), obj.name
    # The property harness records it and goes on (the verifier makes no claim about it).
    assert run(source, scene, outcome_stops=False).status == "completed"


def test_fingers_around_a_block_and_into_a_bowl_are_no_collision():
    """A pick straight down over a block, a block put into a bowl and on a stack, a bowl
    picked at its centre and put down on free table: the plans' own contacts."""
    source = ("put_first_on_second('green block', [0.2, -0.3])\n"
              "put_first_on_second('blue bowl', [-0.15, -0.65])\nput_first_on_second('red block', 'blue bowl')\n")
    outcome = run(source, ON_TOP)
    assert outcome.status == "completed" and outcome.outcome_events == [], outcome.message
    outcome = run(STACK, STACK_SCENE)
    assert outcome.status == "completed" and outcome.outcome_events == []


def test_the_hand_turns_as_the_sim_turns_it_and_a_turn_clears_a_neighbour():
    from capc.runtime import hand

    objects = {"red block": (0.0, -0.5, 0.02), "blue bowl": (0.0, -0.58, 0.0)}
    kinds = {"red block": "block", "blue bowl": "bowl"}
    # The bowl's rim is under a finger closing along y: the hand turns to close along x ...
    assert hand.choose_axis("y", (0.0, -0.5, CELL.travel_height), objects, kinds, None, CELL) == "x"
    # ... and only at travel height: lower down it keeps its axis.
    assert hand.choose_axis("y", (0.0, -0.5, 0.05), objects, kinds, None, CELL) == "y"
    down = ((0.0, -0.5, CELL.travel_height), (0.0, -0.5, 0.02))
    assert hand.sweep_hit(*down, "y", objects, kinds, None, cell=CELL) == ("blue bowl", "fingers")
    assert hand.sweep_hit(*down, "x", objects, kinds, None, cell=CELL) is None


def test_the_reach_is_declared_once_and_every_segment_is_checked_against_it():
    """Between the two spheres of the cell (TabletopCell.reach_miss): the spawn area at block
    and travel height is in reach, the points near the base and the far corner are not, and a
    straight path across the base misses though both of its ends are in reach."""
    b = CELL.spawn_area
    for x in (b.x.low, 0.0, b.x.high):
        for y in (b.y.low, b.y.high - 0.05, (b.y.low + b.y.high) / 2):
            assert CELL.reach_miss((x, y, CELL.travel_height), (x, y, CELL.resting_z("block"))) == 0.0, (x, y)
    assert CELL.reach_miss((0.0, -0.5, 0.2), (0.0, -0.5, 0.2)) == 0.0                   # home
    assert CELL.reach_miss((0.0, -0.5, 0.15), (0.0, -0.217, 0.15)) > 0.0                # near the base
    assert CELL.reach_miss((0.3, -0.8, 0.15), (0.3, -0.8, 0.02)) > 0.05                 # the far corner
    assert CELL.reach_miss((-0.25, -0.2, 0.15), (0.25, -0.2, 0.15)) > 0.0               # across the base
    top_side = CELL.places["top side"]
    assert CELL.reach_miss((0.0, -0.5, 0.15), (*top_side, CELL.travel_height)) > 0.0    # CaP's 'top side'


def test_a_segment_out_of_reach_stops_before_it_is_sent():
    source = "put_first_on_second('red block', [-0.1, -0.5])\nput_first_on_second('red block', [0.0, -0.217])\n"
    outcome = run(source, TWO)
    assert (outcome.status, outcome.code) == (STATUS_UNREACHABLE, E_UNREACHED), outcome.message
    assert outcome.diagnostic.span.line == 2 and "reach" in outcome.message
    assert [e["code"] for e in outcome.outcome_events] == [E_UNREACHED]
    # The first place ran; the carry of the second was not sent: the block is in the hand,
    # at the travel point over where it was picked.
    assert outcome.final_positions["red block"] == pytest.approx([-0.1, -0.5, CELL.travel_height])
    # The property harness records it and goes on.
    assert run(source, TWO, outcome_stops=False).status == "completed"


@pytest.mark.slow
def test_the_declared_reach_lies_inside_the_sims_arm():
    """Points just inside the cell's reach, over the workspace's heights and across the table,
    are reached by the sim's arm (within 2 mm, bench/reach.py measures the margins)."""
    pytest.importorskip("pybullet")
    import math

    from capc.runtime.sim import SimBackend

    cx, cy, cz = CELL.reach_centre
    with SimBackend() as sim:
        for z in (0.0, 0.02, 0.15, 0.3):
            for degrees in (0, 20, 40):
                ux, uy = math.sin(math.radians(degrees)), -math.cos(math.radians(degrees))
                for radius in (CELL.reach_min + 0.001, CELL.reach_max - 0.001):
                    r = math.sqrt(radius ** 2 - (z - cz) ** 2)
                    point = (cx + ux * r, cy + uy * r, z)
                    assert CELL.reach_miss(point, point) == 0.0
                    assert sim.reach_error(point) < 0.002, point


@pytest.mark.slow
def test_on_the_sim_three_blocks_stack_a_missed_grasp_and_an_unreachable_place_stop_the_run():
    pytest.importorskip("pybullet")
    from capc.runtime.sim import SimBackend

    with SimBackend() as sim:
        outcome = run(STACK, STACK_SCENE, backend=sim)
        assert outcome.status == "completed", outcome.outcome_events
        assert outcome.outcome_events == []
        assert_stacked(outcome)
        # The fingers come down 2.9 cm beside the block's centre: within the grasp radius of
        # the kinematic rule, beside the block for real fingers.
        missed = run("put_first_on_second([0.029, -0.5], [0.1, -0.7])\n", TWO, backend=sim)
        assert (missed.status, missed.code) == (STATUS_GRASP_FAILED, E_GRASP_EMPTY)
        # Let go where the arm cannot reach (this near its base): the carry is not sent, on
        # the sim as on the kinematic backend, and the block stays in the hand where both left it.
        for backend in (sim, "kinematic"):
            short = run("put_first_on_second('red block', [0.0, -0.217])\n", TWO, backend=backend)
            assert (short.status, short.code) == (STATUS_UNREACHABLE, E_UNREACHED), short.outcome_events


def test_run_from_an_instruction_reports_whether_the_task_given_was_done(tmp_path, capsys, monkeypatch):
    import json
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent))
    from llm_server import LLMServer, by_prompt

    from capc.cli import main

    monkeypatch.setenv("CAPC_AUDIT_DB", str(tmp_path / "audit.db"))
    scene = tmp_path / "scene.yaml"
    scene.write_text("objects:\n  - {name: red block, position: [0.10, -0.45]}\n"
                     "  - {name: blue bowl, position: [-0.10, -0.60]}\n")

    def run_instruction(server, task: str) -> int:
        return main(["run", "--scene", str(scene), "--llm", "openai", "--model", "m", "--base-url",
                     server.base_url, "--retries", "0", "--timeout", "5", "-i", "put the red block in the bowl",
                     "--task", task, "--json"])

    with LLMServer() as server:
        server.fallback = by_prompt(policies=["put_first_on_second('red block', 'blue bowl')\n"])
        for task, done in (("block_in_bowl('red block', 'blue bowl')", True),
                           ("in_place('red block', 'top left corner')", False)):
            assert run_instruction(server, task) == 0
            data = json.loads(capsys.readouterr().out)
            assert data["run"]["task"] == task and data["run"]["task_result"]["done"] is done
        asked = len(server.requests)
        assert run_instruction(server, "fly(away)") == 2  # refused before the model is asked
        assert len(server.requests) == asked and "E230" in capsys.readouterr().err


# A fixed sample for the fidelity figures of bench/fidelity.py: the example tasks in their
# scenes, the stack on one point, a bowl carried and filled, a block with a bowl under the
# finger's side, a block let go where the arm cannot reach (a disagreement the sim must
# report), and the motions into objects of OBSTRUCTED (stopped before them on both).
NEIGHBOUR = parse_scene("""
objects:
  - {name: red block, position: [0.0, -0.5]}
  - {name: blue bowl, position: [0.0, -0.58]}
""")
FIDELITY_SAMPLE = (
    ("put_first_on_second('red block', [-0.15, -0.65])\n", NEIGHBOUR, True),
    ("put_first_on_second('blue bowl', [-0.15, -0.65])\nput_first_on_second('red block', 'blue bowl')\n",
     TWO, True),
    (STACK, STACK_SCENE, True),
)
# Out of the arm's reach (the cell's reach_miss): near its base, where the elbow is folded to its
# limit (let go at 2 cm, and CaP's "top side" at travel height), and the workspace's far corner.
# Both backends stop before the segment (E526), where the two worlds are still the same.
UNREACHABLE = (
    "put_first_on_second('red block', [0.0, -0.217])\n",
    "put_first_on_second('red block', 'top side')\n",
    "put_first_on_second('red block', [0.3, -0.8])\n",
)


@pytest.mark.slow
def test_a_fixed_sample_agrees_on_both_backends_or_the_sim_reports_it():
    pytest.importorskip("pybullet")
    from pathlib import Path

    from capc.compiler.scene import load_scene
    from capc.runtime.sim import SimBackend
    from capc.testing.fidelity import AGREE, run_pair

    examples = Path(__file__).parent.parent / "examples"
    sample = [((examples / f"{name}.py").read_text(), load_scene(str(examples / f"{name}.scene.yaml")), True)
              for name in ("put_block_in_bowl", "stack_all_blocks", "blocks_horizontal_line")]
    with SimBackend() as sim:
        for source, scene, agrees in sample + list(FIDELITY_SAMPLE):
            result = run_pair(compile_source(source, "<sample>"), scene, SPEC, sim)
            assert result.agrees is agrees, (source, result.distance, result.events)
            if agrees:
                assert result.events == [], (source, result.events)
            else:
                assert result.distance > AGREE and result.reported, source
        # A motion into an object stops before it on both backends (E525): the worlds agree,
        # and the sim run says why it stopped.
        for source, scene, hit, _ in OBSTRUCTED:
            result = run_pair(compile_source(source, "<sample>"), scene, SPEC, sim)
            assert result.agrees and result.status == ("obstructed", "obstructed"), (source, result.distance)
            assert [(e["code"], e["object"]) for e in result.events] == [(E_OBSTRUCTED, hit)], source
        for source in UNREACHABLE:
            result = run_pair(compile_source(source, "<sample>"), TWO, SPEC, sim)
            assert result.agrees and result.status == ("unreachable", "unreachable"), (source, result.distance)
            assert [e["code"] for e in result.events] == [E_UNREACHED], (source, result.events)
