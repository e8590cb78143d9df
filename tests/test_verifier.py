"""The verifier's behaviour beyond the program corpus: guarded verdicts, scene-free mode,
budgets, reports, helper spans, the replay's independence."""

from __future__ import annotations

import json

import pytest

from capc.compiler.frontend import compile_source
from capc.compiler.scene import parse_scene
from capc.limits import DEFAULT_LIMITS
from capc.safety import counterexample as cexm
from capc.safety.spec import default_spec, parse_spec
from capc.safety.verifier import policy_object_names, verify
from cpu_clock import cpu_at_most

SCENE = parse_scene("""objects:
  - {name: red block, position: [0.22, -0.50]}
  - {name: green block, position: [-0.10, -0.35]}
  - {name: blue bowl, position: [-0.15, -0.60]}
""")


def _verify(source: str, scene=SCENE, spec=None, **kw):
    return verify(compile_source(source, "policy.py"), spec or default_spec(), scene, **kw)


def test_unbounded_while_is_guarded_not_accepted_not_rejected():
    report = _verify("x = 0.0\n"
                     "while get_obj_pos('red block')[0] > x:\n"
                     "    x = x + 0.01\n"
                     "move_to([x, -0.5, 0.1])\n")
    assert report.verdict == "guarded"
    assert not report.violated()
    assert report.guards and "while loop" in report.guards[0]["reason"]
    assert [d.code for d in report.diagnostics()] == ["E305"]


def test_motion_to_a_sub_lmp_answer_is_guarded():
    report = _verify("p = parse_position('a point left of the bowl')\nmove_to([p[0], p[1], 0.1])\n")
    assert report.verdict == "guarded"
    assert "run-time answer" in report.guards[0]["reason"]


def test_sub_lmp_answer_offset_off_the_table_is_rejected():
    # Any plausible answer near the right edge breaks it: a real counterexample.
    report = _verify("p = parse_position('somewhere')\nmove_to([p[0] + 0.2, p[1], 0.1])\n")
    assert report.verdict == "rejected"
    assert report.violated()[0].counterexample["replayed"] is True


def test_clipped_sub_lmp_answer_is_proved():
    report = _verify("p = parse_position('somewhere')\n"
                     "q = np.clip(p, [-0.25, -0.75], [0.25, -0.25])\n"
                     "move_to([q[0], q[1], 0.1])\n")
    assert report.verdict == "accepted", [d.message for d in report.diagnostics()]


def test_helper_supplied_at_compile_time_is_verified_in_place():
    helpers = {"shift": ("def shift(p):\n    return [p[0] + 0.2, p[1]]\n", "helpers.py")}
    program = compile_source("pos = get_obj_pos('red block')\nput_first_on_second('green block', shift(pos))\n",
                             "policy.py", helpers=helpers)
    report = verify(program, default_spec(), SCENE)
    assert report.verdict == "rejected"
    assert report.diagnostics()[0].span.line == 2


def test_scene_free_put_block_in_bowl_is_proved_for_every_placement():
    report = _verify("put_first_on_second('red block', 'blue bowl')\n", scene=None, any_scene=True)
    assert report.mode == "any_scene"
    assert report.verdict == "accepted"
    assert len(report.obligations) == 6 and all(o.verdict == "proved" for o in report.obligations)


def test_scene_free_ten_cm_right_of_bowl_rejected_with_bowl_near_right_edge():
    report = _verify("target = get_obj_pos('blue bowl') + [0.1, 0]\n"
                     "put_first_on_second('red block', target)\n", scene=None, any_scene=True)
    assert report.verdict == "rejected"
    cex = report.violated()[0].counterexample
    assert cex["replayed"] is True
    bowl_x = cex["objects"]["blue bowl"][0]
    assert bowl_x > 0.3 - 0.1 - 0.01 - 0.001  # the bowl stands near the right edge of the spawn area
    assert set(cex["objects"]) == {"red block", "blue bowl"}


def test_scene_free_object_names_come_from_the_policy():
    program = compile_source("put_first_on_second('cyan block', 'pink bowl')\nsay('red block?')\n", "p.py")
    assert policy_object_names(program) == ["cyan block", "pink bowl"]


# Scene-free, every block's side of the table is a symbolic branch: 2^10 paths.
TEN_BLOCKS = parse_scene("objects:\n" + "\n".join(
    f"  - {{name: {c} block, position: [{x:.2f}, -0.5]}}" for c, x in zip(
        ["red", "green", "blue", "orange", "yellow", "purple", "pink", "cyan", "brown", "gray"],
        [-0.25 + 0.05 * i for i in range(10)])) + "\n")
SIDE_OF_THE_TABLE = ("for name in get_obj_names():\n"
                     "    p = get_obj_pos(name)\n"
                     "    if p[0] > 0:\n"
                     "        move_to([p[0], p[1], 0.1])\n"
                     "    else:\n"
                     "        move_to([p[0], p[1], 0.12])\n")


def test_budget_is_respected_and_leftovers_are_guarded():
    with cpu_at_most(10.0):   # measured: 0.5 s
        report = _verify(SIDE_OF_THE_TABLE, scene=TEN_BLOCKS, any_scene=True, max_paths=8)
    assert report.verdict == "guarded" and report.paths == 8 and report.budget["ran_out"] == "paths"
    assert report.paths_unexplored > 0 and any(o.code == "E307" for o in report.obligations)


@pytest.mark.parametrize("changes, ran_out, code, words", [
    ({"verify_steps": 500}, "executor steps", "E307", "500 executor steps (verify_steps)"),
    ({"solver_rlimit": 1}, "solver resources", "E307", "1 Z3 resource units (solver_rlimit)"),
    ({"solver_seconds": 0.0}, "wall-clock ceiling", "E309", "this report depends on it"),
])
def test_each_part_of_the_budget_ends_the_verification_in_its_own_words(changes, ran_out, code, words):
    """The deterministic parts (steps, Z3 resource units) end it with E307; the wall-clock
    ceiling, the only part that depends on the machine, with E309."""
    report = _verify(SIDE_OF_THE_TABLE, scene=TEN_BLOCKS, any_scene=True,
                     limits=DEFAULT_LIMITS.with_changes(**changes))
    assert report.verdict == "guarded" and report.budget["ran_out"] == ran_out
    ended = [o for o in report.obligations if o.property == "analysis"]
    assert ended and {o.code for o in ended} == {code} and all(words in o.message for o in ended)
    assert report.budget["steps"] <= changes.get("verify_steps", DEFAULT_LIMITS.verify_steps) + 100


def test_report_json_carries_every_obligation():
    report = _verify("pos = get_obj_pos('red block')\nmove_to([pos[0] + 0.1, pos[1], 0.1], speed=0.1)\n")
    data = json.loads(json.dumps(report.to_json()))
    assert data["verdict"] == "rejected"
    assert len(data["obligations"]) == len(report.obligations) == 2
    violated = [o for o in data["obligations"] if o["verdict"] == "violated"]
    assert violated[0]["span"]["line"] == 2 and violated[0]["property"] == "workspace"
    assert violated[0]["counterexample"]["call_index"] == 1
    assert {"objects", "variables", "target", "limit", "excess", "replayed"} <= set(violated[0]["counterexample"])


def test_violation_inside_helper_points_into_the_def_with_caller_note():
    report = _verify("def lift(p):\n    move_to([p[0], p[1], 0.4])\n\nlift([0.0, -0.5])\n")
    d = report.diagnostics()[0]
    assert d.span.line == 2
    assert d.notes == ("called from policy.py:4:1",)


def test_keep_out_crossed_only_for_some_placements_scene_free():
    spec = parse_spec("keep_out:\n  - {name: post, box: {x: [-0.05, 0.05], y: [-0.55, -0.45], z: [0.0, 0.1]}}\n")
    report = _verify("put_first_on_second('red block', 'blue bowl')\n", scene=None, spec=spec, any_scene=True)
    assert report.verdict == "rejected"
    ob = report.violated()[0]
    assert ob.property == "keep_out:post" and ob.counterexample["replayed"] is True


def test_replay_refutes_a_counterexample_that_does_not_hold():
    source = "pos = get_obj_pos('red block')\nmove_to([pos[0] + 0.1, pos[1], 0.1])\n"
    program = compile_source(source, "policy.py")
    report = verify(program, default_spec(), SCENE)
    data = report.violated()[0].replay["data"]
    assert cexm.replay(program, default_spec(), data) == (True, "confirmed by the runtime interpreter")
    # The same world with the block perceived 15 cm further left: the target is on the table.
    moved = dict(data.answers)
    moved[0] = [moved[0][0] - 0.15, moved[0][1]]
    forged = cexm.ReplayData(data.positions, data.kinds, data.names, moved, data.target)
    confirmed, why = cexm.replay(program, default_spec(), forged)
    assert not confirmed and "monitor passed" in why


def test_policy_fault_on_a_path_is_a_warning_not_a_crash():
    report = _verify("xs = [0.1, 0.2]\nmove_to([xs[2], -0.5, 0.1])\n")
    assert report.verdict == "accepted"
    assert [d.code for d in report.diagnostics()] == ["E306"]


def test_symbolic_sort_forks_and_checks_each_order():
    scene = parse_scene("objects:\n  - {name: red block, position: [0.10, -0.5]}\n"
                        "  - {name: green block, position: [0.105, -0.6]}\n")
    report = _verify("names = sorted(get_obj_names(), key=lambda n: get_obj_pos(n)[0])\n"
                     "for i, n in enumerate(names):\n"
                     "    put_first_on_second(n, [0.1 * i, -0.3])\n", scene=scene)
    assert report.paths == 2  # the two blocks are within the tolerance of each other
    assert report.verdict == "accepted"


@pytest.mark.parametrize("expr, verdict", [
    ("np.sqrt((p[0] - 0.0) ** 2)", "accepted"),
    ("abs(p[0]) + 0.05", "accepted"),
    ("max(p[0], 0.29) + 0.02", "rejected"),
    ("np.cos(p[0])", "rejected"),            # unknown angle: cos is anywhere in [-1, 1]
    ("0.1 * np.cos(p[0] * 10)", "accepted"),
])
def test_numpy_on_symbolic_values(expr, verdict):
    report = _verify(f"p = get_obj_pos('green block')\nmove_to([{expr}, -0.5, 0.1])\n")
    assert report.verdict == verdict, [d.message for d in report.diagnostics()]


def test_branches_decided_by_bounds_do_not_shift_recorded_decisions():
    # The outer test is settled by the bounds; the inner one forks. Re-running for the inner
    # else-branch must take the outer branch the same way (regression from the soak).
    scene = parse_scene("objects:\n  - {name: cyan bowl, position: [0.19, -0.40]}\n"
                        "  - {name: green block, position: [0.0, -0.738]}\n"
                        "  - {name: brown block, position: [-0.117, -0.59]}\n")
    source = ("if get_obj_pos('cyan bowl')[0] > -0.3:\n"
              "    if np.linalg.norm(get_obj_pos('green block') - get_obj_pos('brown block')) < 0.117:\n"
              "        move_to([0.0, -0.5, 0.2])\n"
              "    else:\n"
              "        move_to([0.35, -0.5, 0.2])\n")
    report = _verify(source, scene=scene, spec=default_spec().with_changes(perception_tolerance=0.02))
    assert report.paths == 2 and report.verdict == "rejected"
    assert report.diagnostics()[0].span.line == 5


@pytest.mark.parametrize("entry", ["slices_kept", "fstring_list_kept", "array_copies_kept"])
def test_step_budget_ends_the_path_where_it_ends_the_run(entry):
    """The executor charges slices, f-strings and array results to the run's step budget
    (capc.compiler.costs): a policy grinding through it stops the verifier's path with the
    run's E420, at the run's line, instead of making the verifier grind for seconds."""
    from pathlib import Path

    from capc.compiler.frontend import compile_file
    from capc.compiler.scene import random_scene
    from capc.runtime.execute import execute

    program = compile_file(str(Path(__file__).parent / "hostile" / f"{entry}.py"))
    scene = random_scene(0)
    report = verify(program, default_spec(), scene)
    assert [o for o in report.obligations if o.code == "E307"] == []  # not the solver budget
    assert len(report.faults) == 1 and "(E420)" in report.faults[0].message
    outcome = execute(program, scene, default_spec(), backend="kinematic")
    assert (outcome.code, outcome.span.line) == ("E420", report.faults[0].span.line)
