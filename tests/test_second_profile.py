"""A second embodiment, with no change to the checker, the verifier, the monitor or the
kinematic backend (issue 19): the shelf profile of tests/shelf_profile.py, a counter with
cubbies and a primitive of its own (`shelve`), run through each of them."""

from __future__ import annotations

import pytest

import shelf_profile
from capc.compiler.frontend import compile_source
from capc.compiler.profiles import get_profile
from capc.compiler.scene import make_object, parse_scene, Scene
from capc.diagnostics import CompileError
from capc.runtime.execute import STATUS_COMPLETED, STATUS_STOPPED, execute
from capc.runtime.kinematic import KinematicBackend
from capc.safety.spec import parse_spec
from capc.safety.verifier import verify

PROFILE = get_profile(shelf_profile.NAME)
SPEC = parse_spec(shelf_profile.LIMITS, "shelf.yaml", profile=shelf_profile.NAME)
SCENE = parse_scene(shelf_profile.SCENE, "shelf_scene.yaml", profile=PROFILE)

SAFE = "shelve('white can', 1)\nshelve('black box', 3)\nsay('shelved')\n"
# Over the can, 25 cm further back and at the height of the cubbies' top board.
UNSAFE = "x, y = get_obj_pos('white can')\nmove_to([x, y + 0.25, 0.18])\n"


def _compile(source: str):
    return compile_source(source, "shelf_policy.py", profile=shelf_profile.NAME)


def test_the_scene_and_the_spec_are_the_shelfs():
    can = SCENE.get("white can")
    assert (can.kind, can.color) == ("can", "white")
    assert can.position[2] == pytest.approx(PROFILE.cell.resting_z("can"))
    assert SPEC.workspace == PROFILE.cell.table_bounds
    assert [zone.name for zone in SPEC.keep_out] == ["top board", "left wall", "right wall"]


def test_the_checker_takes_the_profiles_api():
    program = _compile(SAFE)
    assert program.profile == shelf_profile.NAME
    assert [s.value.kind for s in program.body] == ["api"] * 3
    # The tabletop's primitive is no API call here: a function the policy would have to define.
    assert _compile("put_first_on_second('white can', 'black box')\n").body[0].value.kind == "undefined"
    assert compile_source("shelve('red block', 1)\n").body[0].value.kind == "undefined"


@pytest.mark.parametrize("source, words", [
    ("move_to('white can')\n", "xy position"),                                 # a point, not a name
    ("shelve('white can', 'top')\n", "slot"),                                   # a slot is a number
    ("shelve('white can')\n", "slot"),                                          # and it is required
])
def test_the_checker_refuses_what_the_profile_does_not_have(source, words):
    with pytest.raises(CompileError) as info:
        _compile(source)
    assert words in str(info.value)


def test_the_verifier_proves_a_safe_shelving():
    report = verify(_compile(SAFE), SPEC, SCENE)
    assert report.verdict == "accepted", [d.message for d in report.diagnostics()]
    assert report.counts()["proved"] > 0


def test_a_cubby_that_does_not_exist_is_outside_the_workspace():
    report = verify(_compile("shelve('white can', 5)\n"), SPEC, SCENE)
    assert report.verdict == "rejected"
    assert {o.counterexample["limit"] for o in report.violated()} == {"workspace"}


def test_the_verifier_rejects_an_unsafe_move_with_a_counterexample_the_kinematic_backend_replays():
    program = _compile(UNSAFE)
    report = verify(program, SPEC, SCENE)
    assert report.verdict == "rejected"
    violated = report.violated()[0]
    cex = violated.counterexample
    assert cex["replayed"] is True and cex["limit"].startswith("keep_out")
    # The counterexample's world, run on the kinematic backend: the monitor stops the same move.
    world = Scene(tuple(make_object(name, tuple(pos), PROFILE) for name, pos in cex["objects"].items()))
    outcome = execute(program, world, SPEC, backend=KinematicBackend(PROFILE.cell))
    assert outcome.status == STATUS_STOPPED
    assert outcome.monitor_events[0]["limit"] == "keep_out:top board"


def test_the_monitor_stops_an_unverified_unsafe_run():
    outcome = execute(_compile(UNSAFE), SCENE, SPEC, backend="kinematic")
    assert outcome.status == STATUS_STOPPED and outcome.code == "E511"
    assert outcome.span.line == 2
    # Nothing inside the top board was sent.
    board = SPEC.keep_out[0].region
    assert not any(board.contains(tuple(p)) for p in outcome.setpoints.tolist())


def test_the_kinematic_backend_runs_the_shelving():
    outcome = execute(_compile(SAFE), SCENE, SPEC, backend="kinematic")
    assert outcome.status == STATUS_COMPLETED, outcome.message
    assert outcome.said == ["shelved"]
    cell = PROFILE.cell
    for name, slot in (("white can", 1), ("black box", 3)):
        x, y, z = outcome.final_positions[name]
        assert (x, y) == pytest.approx(cell.slot_xy(slot), abs=1e-9)
        assert z == pytest.approx(cell.resting_z(PROFILE.object_kind(name)))
    # The slide into a cubby is horizontal, under the top board: every set-point inside the
    # cubbies' depth is below it.
    inside = [p for p in outcome.setpoints.tolist() if p[1] > cell.mouth_y + 1e-9]
    assert inside and max(p[2] for p in inside) <= cell.carry_height + 1e-9
    assert not outcome.outcome_events


def test_a_backend_the_profile_does_not_declare_is_refused():
    from capc.diagnostics import InputError

    with pytest.raises(InputError, match="no 'sim' backend"):
        execute(_compile(SAFE), SCENE, SPEC, backend="sim")
