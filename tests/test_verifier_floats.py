"""The verifier reasons over exact reals; the run computes in doubles. These cases sit on the
float boundary where the two differ by one rounding step, and check property 1 (a proved
command is never stopped by the monitor) on the kinematic backend, plus the harness rule that
a stop on a path the verifier did not finish is not held against a proof of another path.

docs/verification.md, "Float model", states the slack these rely on."""

from __future__ import annotations

import dataclasses
import functools
import math

from capc.compiler.frontend import compile_source
from capc.compiler.scene import Scene, make_object
from capc.limits import DEFAULT_LIMITS
from capc.safety.spec import default_spec
from capc.safety.verifier import verify
from capc.testing.cases import Case, WorldRun, evaluate
from capc.testing.policies import GeneratedPolicy
from capc.testing.properties import check_soundness, require, unfinished_at
from capc.testing.running import run_kinematic, stop_of

SPEC = dataclasses.replace(default_spec(), perception_tolerance=0.01)
SEEN = Scene((make_object("blue block", (0.1, -0.5)),))


def _world(x: float) -> Scene:
    obj = SEEN.objects[0]
    return Scene((dataclasses.replace(obj, position=(x,) + tuple(obj.position[1:])),))


def _case(source: str, x: float) -> Case:
    return Case(SEEN, SPEC, GeneratedPolicy(source, ()), (WorldRun(_world(x)),))


def _stopped_at(source: str, x: float) -> int | None:
    stop = stop_of(run_kinematic(compile_source(source, "<t>"), _world(x), SPEC))
    return None if stop is None else stop[0]


# In doubles 0.1 + 0.2 is 0.30000000000000004, so a block seen exactly at x = 0.1 passes the
# first test; in exact reals p[0] + 0.2 >= 0.30000000000000004 needs p[0] > 0.1, so the inner
# test can never hold, and a verifier deciding branches on reals alone never looks inside.
ROUNDED_BRANCH = """\
p = get_obj_pos('blue block')
if p[0] + 0.2 >= 0.30000000000000004:
    if p[0] <= 0.1:
        move_to([0.4, -0.5, 0.1])
"""


def test_a_branch_taken_only_by_rounding_is_verified():
    assert 0.1 + 0.2 >= 0.30000000000000004  # the run takes both branches...
    assert _stopped_at(ROUNDED_BRANCH, 0.1) == 1  # ...and the monitor stops the move
    report = verify(compile_source(ROUNDED_BRANCH, "<t>"), SPEC, SEEN)
    # the side only rounding reaches is not explored: guarded, with the test's line
    assert report.verdict == "guarded"
    assert not any(o.verdict == "proved" for o in report.obligations if o.call_index == 1)
    rounded = [o for o in report.obligations if o.role == "rounded branch"]
    assert rounded and rounded[0].span.line == 3 and "float rounding" in rounded[0].message
    assert unfinished_at(report, 1)
    for finding in evaluate(_case(ROUNDED_BRANCH, 0.1)).findings:
        require(finding)


def test_a_test_repeated_on_a_path_is_not_taken_for_a_rounding_branch():
    """Doubles compare the same two values the same way twice: `p[0] > 0.1` and later
    `p[0] <= 0.1`, or the same atom inside two different tests, fork nothing."""
    source = """\
p = get_obj_pos('blue block')
near = p[0] > 0.1
if near:
    move_to([0.1, -0.5, 0.1])
if p[0] <= 0.1 and p[1] < 0.0:
    move_to([0.2, -0.5, 0.1])
if near or p[1] > 0.0:
    move_to([0.0, -0.5, 0.1])
"""
    report = verify(compile_source(source, "<t>"), SPEC, SEEN)
    assert report.verdict == "accepted", [o.message for o in report.obligations if o.verdict != "proved"]


# The monitor passes x <= 0.3 + 1e-9 as computed in doubles: 0.300000001. With p[0] one ulp
# above 0.1, p[0] + 0.200000001 is above 0.300000001 in exact reals but rounds to it in doubles,
# so the first move passes the monitor. An assumption "x <= 0.300000001 exactly" would contradict
# the path condition p[0] > 0.1 and make the second move "proved" vacuously.
ROUNDED_PASS = """\
p = get_obj_pos('blue block')
if p[0] > 0.1:
    move_to([p[0] + 0.200000001, -0.5, 0.1])
    move_to([0.4, -0.5, 0.1])
"""


def test_an_earlier_move_that_passes_only_by_rounding_is_not_assumed_stopped():
    x = math.nextafter(0.1, 1.0)
    assert x + 0.200000001 == 0.3 + 1e-9  # rounds onto the monitor's bound: it passes
    assert _stopped_at(ROUNDED_PASS, x) == 2  # the monitor stops the second move
    report = verify(compile_source(ROUNDED_PASS, "<t>"), SPEC, SEEN)
    # not proved: only worlds where the first move passes by rounding reach it, and those do
    # not replay from the model's rationals, so it is guarded (the first move is violated)
    second = [o for o in report.obligations if o.call_index == 2 and o.property == "workspace"]
    assert second and all(o.verdict != "proved" for o in second)
    assert report.verdict == "rejected"
    for finding in evaluate(_case(ROUNDED_PASS, x)).findings:
        require(finding)


# --- the harness: obligations are per path, a run does not say which path it took -----------

FORK = """\
p = get_obj_pos('blue block')
if p[0] > 0.1:
    move_to([0.1, -0.5, 0.1])
else:
    move_to([0.4, -0.5, 0.1])
"""


def test_a_stop_on_an_unexplored_path_is_not_held_against_another_paths_proof():
    program = compile_source(FORK, "<t>")
    one_path = verify(program, SPEC, SEEN, max_paths=1)  # the else side is left unexplored
    assert one_path.paths_unexplored == 1 and one_path.verdict == "guarded"
    at_move = [o for o in one_path.obligations if o.call_index == 1]
    assert at_move and all(o.verdict == "proved" for o in at_move)  # the explored side's move
    assert unfinished_at(one_path, 1)
    world = _world(0.095)  # takes the else side: the monitor stops call 1 at x = 0.4
    assert _stopped_at(FORK, 0.095) == 1
    assert check_soundness(program, one_path, world, SPEC) is None
    # explored in full, the same stop is the verifier's own violated obligation
    full = verify(program, SPEC, SEEN)
    assert not unfinished_at(full, 1) and full.verdict == "rejected"
    assert check_soundness(program, full, world, SPEC) is None


def test_the_harness_still_blames_a_proof_on_a_finished_path():
    program = compile_source(FORK, "<t>")
    full = verify(program, SPEC, SEEN)
    # a report that claims every command proved (as a broken verifier would) is caught
    claimed = dataclasses.replace(full, verdict="accepted",
                                  obligations=[dataclasses.replace(o, verdict="proved") for o in full.obligations])
    finding = check_soundness(program, claimed, _world(0.095), SPEC)
    assert finding is not None and finding.property == "soundness"
    verify_partial = functools.partial(verify, max_paths=1)
    assert not evaluate(_case(FORK, 0.095), verify=verify_partial).findings


def test_a_stop_on_an_unfinished_path_is_judged_again_with_a_larger_budget():
    """evaluate() verifies once more with RECHECK_FACTOR times the budget when a stop falls
    on a path the verifier left unfinished, and holds that second report to property 1."""
    from capc.testing.cases import RECHECK_FACTOR

    budgets = []

    def verify_with(program, spec, scene, any_scene=False, limits=None):
        budgets.append(limits.verify_steps)
        if limits.verify_steps == DEFAULT_LIMITS.verify_steps:
            return verify(program, spec, scene, any_scene=any_scene, limits=limits, max_paths=1)
        full = verify(program, spec, scene, any_scene=any_scene, limits=limits)
        # a broken second answer (everything proved) must be caught
        return dataclasses.replace(full, verdict="accepted",
                                   obligations=[dataclasses.replace(o, verdict="proved") for o in full.obligations])

    result = evaluate(_case(FORK, 0.095), verify=verify_with, counterexamples=False)
    assert budgets == [DEFAULT_LIMITS.verify_steps, RECHECK_FACTOR * DEFAULT_LIMITS.verify_steps]
    assert [f.property for f in result.findings] == ["soundness"]
