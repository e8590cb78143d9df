"""Counterexamples keep clear of the world model's support edges (docs/testing.md, Findings 13).

A block released exactly half a block off its support's centre stands on it in exact reals
but may miss it in doubles: the kinematic backend decides that edge by float rounding. A
counterexample the verifier reports as `violated` must keep EDGE_GAP clear of every support
comparison; where only edge worlds break a limit the command is left `unknown` (guarded).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import sys
from pathlib import Path

import pytest
import z3

from capc.compiler.frontend import compile_source
from capc.compiler.scene import Scene, make_object
from capc.safety import counterexample as cexm
from capc.safety.spec import parse_spec
from capc.safety.verifier import verify
from capc.safety.world import EDGE_GAP
from capc.testing.cases import evaluate
from capc.testing.properties import check_counterexamples, require

ROOT = Path(__file__).resolve().parents[1]
SOAK_CASE = ROOT / "tests" / "fixtures" / "proptest" / "soak_10k_stack_everything_2.json"


def _at(name: str, position: tuple) -> object:
    return dataclasses.replace(make_object(name, position[:2]), position=tuple(position))


# A three-block stack at x = 0 (each block known to 1 cm), the yellow block put down at a bare
# point 3 cm beside it and 14 cm up, then picked again. It lands on the green top block only
# when the perception errors bring it within half a block (2 cm) of the green block's centre;
# then the pick travels at 18-19 cm instead of 15. The shelf (a keep-out box from 17.5 cm up)
# begins `shelf_x` from x = 0: the pick's approach point reaches x = 0.04 only with every error
# at the tolerance, which is exactly the support's edge.
SCENE = Scene((_at("brown block", (0.0, -0.5, 0.02)), _at("blue block", (0.0, -0.5, 0.06)),
               _at("green block", (0.0, -0.5, 0.10)), _at("yellow block", (-0.2, -0.5, 0.02))))
POLICY = ("put_first_on_second('yellow block', [0.03, -0.5, 0.14])\n"
          "put_first_on_second('yellow block', [-0.2, -0.5])\n")


def _spec(shelf_x: float):
    return parse_spec(json.dumps({"perception_tolerance": 0.01, "keep_out": [
        {"name": "shelf", "box": {"x": [shelf_x, 0.1], "y": [-0.6, -0.4], "z": [0.175, 0.3]}}]}))


def _verify_with_shelf(shelf_x: float):
    """(program, spec, report, the obligation of the second pick's approach to the shelf)."""
    program = compile_source(POLICY, "<edge>")
    spec = _spec(shelf_x)
    report = verify(program, spec, SCENE)
    [ob] = [o for o in report.obligations if o.call_index == 1 and o.role == "approach pick"
            and o.property == "keep_out:shelf"]
    return program, spec, report, ob


@contextlib.contextmanager
def _edge_distances():
    """Record |a - b| of every support comparison a concrete replay meets."""
    seen: list[float] = []
    original = cexm._Answers.edge

    def record(self, a, b, gap):
        seen.append(abs(float(a) - float(b)))

    cexm._Answers.edge = record
    try:
        yield seen
    finally:
        cexm._Answers.edge = original


def _edge_clearance(program, report, spec) -> float:
    """The least distance of a violated obligation's world from a support edge."""
    least = float("inf")
    for ob in report.obligations:
        if ob.verdict != "violated" or not ob.replay:
            continue
        with _edge_distances() as seen:
            confirmed, detail = cexm.replay(program, spec, ob.replay["data"])
        assert confirmed, detail
        least = min([least, *seen])
    return least


def test_a_limit_broken_only_on_a_support_edge_is_left_unknown():
    # Every world that reaches the shelf has the yellow block within 1e-9 m of the green
    # block's edge: no counterexample a backend would reproduce for sure.
    _, _, report, ob = _verify_with_shelf(0.04 - 1e-9)
    assert ob.verdict == "unknown", ob.message
    assert "edge of a block's support" in ob.message
    assert report.verdict == "guarded"
    assert all(o.verdict != "violated" for o in report.obligations)


def test_a_counterexample_keeps_clear_of_the_support_edge():
    # Worlds up to 1e-5 m inside the edge reach the shelf: the verifier reports one of them,
    # not the corner where every error is at the tolerance.
    program, spec, report, ob = _verify_with_shelf(0.04 - 1e-5)
    assert ob.verdict == "violated", ob.message
    assert ob.counterexample["replayed"] is True
    assert _edge_clearance(program, report, spec) >= EDGE_GAP * (1 - 1e-6)
    assert check_counterexamples(program, report, SCENE, spec) is None


@contextlib.contextmanager
def _z3_seed(seed: int):
    before = z3.get_param("smt.random_seed")
    z3.set_param("smt.random_seed", seed)
    try:
        yield
    finally:
        z3.set_param("smt.random_seed", int(before))


# Seeds under which the 10k soak's case gave a false counterexample in a run of seeds 0..29
# (the model Z3 picks also depends on what the process solved before, so a seed alone does not
# bring it back; the clearance check below does not depend on the luck of the float run).
@pytest.mark.parametrize("seed", [2, 13, 27])
def test_soak_stack_everything_counterexamples_are_real_under_seeds(seed):
    sys.path.insert(0, str(ROOT / "tests"))
    try:
        from test_properties import load_case
    finally:
        sys.path.remove(str(ROOT / "tests"))
    case = load_case(SOAK_CASE)
    with _z3_seed(seed):
        result = evaluate(case)
        for finding in result.findings:
            require(finding)
        program = compile_source(case.policy.source, "<generated>")
        report = verify(program, case.spec, case.scene)
        assert _edge_clearance(program, report, case.spec) >= EDGE_GAP * (1 - 1e-6)
