"""Property-based safety tests (issue 7): the verifier against the monitor, the front end
against any text, the printer against the parser; plus the strategies they rest on.

Example budgets are small so that `make test` stays fast on 2 cores; the `soak` variants at
the bottom run the same properties long (`make soak N=10000`, CAPC_SOAK_EXAMPLES pairs).
"""

from __future__ import annotations

import ast
import math
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from capc.compiler.scene import parse_scene
from capc.compiler.tabletop import CELL
from capc.safety.spec import parse_spec
from capc.testing import admissible, grammar_texts, hostile_texts, limits, placements, policies, scenes, worlds
from capc.testing.policies import features_of
from capc.testing.cases import Case, cases, evaluate
from capc.testing.properties import check_round_trip, check_total, require, strip_spans
from capc.testing.search import scene_yaml

ROOT = Path(__file__).resolve().parents[1]
# CI runs are derandomised (the same examples every run: no flaky failures); `make soak`
# explores at random.
FAST = settings(max_examples=40, deadline=None, database=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
# The CI budget of the two verifier properties (each example: compile, verify, 1-3 runs).
PROPERTY_EXAMPLES = int(os.environ.get("CAPC_PROPERTY_EXAMPLES", "200"))
PROPERTY = settings(max_examples=PROPERTY_EXAMPLES, deadline=None, database=None, derandomize=True,
                    suppress_health_check=list(HealthCheck))


# --- the strategies themselves ----------------------------------------------------------

@FAST
@given(scene=scenes(n_blocks=(1, 4), n_bowls=(0, 3), edge_bias=0.5))
def test_generated_scenes_are_admissible(scene):
    names = scene.names()
    assert len(set(names)) == len(names)
    assert admissible(scene)
    for obj in scene.objects:
        assert obj.position[2] == CELL.resting_z(obj.kind)
    # and a scene file written from it reads back the same
    again = parse_scene(scene_yaml(scene, "round trip"))
    assert again.names() == names
    for a, b in zip(again.objects, scene.objects):
        assert a.position == pytest.approx(b.position, abs=1e-5)


@FAST
@given(spec=limits())
def test_generated_limits_keep_home_safe_and_read_back(spec):
    assert spec.workspace.contains(CELL.home)
    assert not any(zone.region.contains(CELL.home) for zone in spec.keep_out)
    again = parse_spec(__import__("json").dumps(spec.to_json()))
    assert again.workspace == spec.workspace and again.keep_out == spec.keep_out
    assert again.max_speed == spec.max_speed


@FAST
@given(st.data())
def test_worlds_stay_within_the_perception_tolerance(data):
    scene = data.draw(scenes())
    spec = data.draw(limits())
    world = data.draw(worlds(scene, spec))
    assert world.names() == scene.names()
    for true, seen in zip(world.objects, scene.objects):
        for axis in range(3):
            assert abs(true.position[axis] - seen.position[axis]) <= spec.perception_tolerance + 1e-12
        assert true.position[2] == seen.position[2]  # generated objects stand on the table


@FAST
@given(st.data())
def test_placements_keep_required_objects(data):
    scene = data.draw(scenes(n_blocks=3, n_bowls=2))
    required = scene.names()[:2]
    world = data.draw(placements(scene, required=required))
    assert set(required) <= set(world.names()) <= set(scene.names())
    assert admissible(world)


@FAST
@given(st.data())
def test_generated_policies_are_python_and_report_their_features(data):
    scene = data.draw(scenes())
    policy = data.draw(policies(scene, data.draw(limits())))
    ast.parse(policy.source)  # the subset is Python: a syntax error here is an emitter bug
    assert policy.features & {"motion", "loop", "branch"} == features_of(policy.body)


def test_generated_policies_are_mostly_interesting():
    """>= 80% of generated policies have a motion and a loop or branch (the soak target)."""
    seen = []

    @settings(max_examples=150, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(st.data())
    def draw(data):
        seen.append(data.draw(policies(data.draw(scenes()))).interesting)

    draw()
    assert sum(seen) / len(seen) >= 0.8


# --- 1 and 2: the verifier against the monitor ------------------------------------------

@PROPERTY
@given(case=cases())
def test_soundness_and_real_counterexamples(case: Case):
    """Property 1 (a proved command never stops the monitor in a world within tolerance) and
    property 2 (a violated obligation's counterexample stops the monitor at its call)."""
    result = evaluate(case)
    for finding in result.findings:
        require(finding)


# --- regressions: shrunk findings of earlier soak runs, kept as fixtures ------------------

FIXTURES = sorted((ROOT / "tests" / "fixtures" / "proptest").glob("*.json"))


# The four `soak_20k_soundness_*` fixtures (20,000-pair soak at 23aaf83) were stops on paths
# the verifier had left unexplored when its 2 s budget ran out, held against the proofs of the
# same call index on other paths; `unfinished_at` (capc.testing.properties) now keeps them
# apart. They are ordinary must-pass regressions: docs/testing.md, "Findings", item 8.


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
def test_regression_cases_from_the_soak(path):
    """Each fixture is a (policy, scene, limits, worlds) case a soak run found and shrank."""
    case = load_case(path)
    result = evaluate(case)
    for finding in result.findings:
        require(finding)


def load_case(path: Path) -> Case:
    import json

    from capc.compiler.scene import Scene, make_object
    from capc.testing.policies import GeneratedPolicy
    from capc.testing.cases import WorldRun

    data = json.loads(path.read_text())

    def scene(doc) -> Scene:  # positions exactly as written (heights included)
        return Scene(tuple(_at(make_object(o["name"], o["position"][:2]), o["position"]) for o in doc["objects"]))

    runs = tuple(WorldRun(scene(w), w.get("noise", 0.0), w.get("seed", 0)) for w in data["worlds"])
    spec = parse_spec(json.dumps(data.get("limits", {})))
    return Case(scene(data["scene"]), spec, GeneratedPolicy(data["source"], ()), runs,
                bool(data.get("any_scene", False)))


def _at(obj, position):
    import dataclasses

    return dataclasses.replace(obj, position=tuple(float(v) for v in position))


# --- 3: totality of the front end -------------------------------------------------------

@settings(max_examples=150, deadline=None, database=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
@given(text=hostile_texts())
def test_front_end_is_total(text):
    require(check_total(text, seconds=5.0))


# --- 4: round trip ----------------------------------------------------------------------

@settings(max_examples=60, deadline=None, database=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
@given(st.data())
def test_round_trip_of_generated_policies(data):
    policy = data.draw(policies(data.draw(scenes())))
    require(check_round_trip(policy.source))


@pytest.mark.parametrize("path", sorted((ROOT / "examples").glob("*.py")), ids=lambda p: p.name)
def test_round_trip_of_examples(path):
    from capc.diagnostics import CompileError

    try:
        require(check_round_trip(path.read_text()))
    except CompileError:
        pytest.skip(f"{path.name} is a deliberately rejected example")


@settings(max_examples=80, deadline=None, database=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
@given(text=grammar_texts())
def test_round_trip_of_grammar_sentences_that_compile(text):
    from capc.compiler.frontend import compile_source
    from capc.diagnostics import CompileError

    try:
        compile_source(text, "<fuzz>")
    except CompileError:
        return
    require(check_round_trip(text))


def test_strip_spans_ignores_only_positions():
    from capc.diagnostics import Span
    from capc.testing.policies import const

    a = const(1.5)
    moved = type(a)(Span("other", 9, 9, 9, 10), a.type, a.value)
    assert strip_spans(a) == strip_spans(moved)
    assert strip_spans(a) != strip_spans(const(2.5))


# --- soak: the same properties, long (make soak N=...) ----------------------------------

@pytest.mark.soak
def test_soak_soundness_and_counterexamples():
    from capc.testing.soak import soak

    pairs = int(os.environ.get("CAPC_SOAK_EXAMPLES", "1000"))
    workers, ray = os.environ.get("CAPC_SOAK_WORKERS"), os.environ.get("CAPC_SOAK_RAY")
    if workers or ray:      # make soak WORKERS=N / RAY=ADDRESS: shards on capc.jobs
        from capc.testing.sharded import soak_sharded
        report = soak_sharded(pairs, workers=int(workers) if workers else None, ray_address=ray or None,
                              progress=_progress(pairs))
    else:
        report = soak(pairs, progress=_progress(pairs))
    print("\n" + report.summary())
    if os.environ.get("CAPC_SOAK_FINDINGS"):
        report.write_findings(os.environ["CAPC_SOAK_FINDINGS"])
    assert report.soundness_failures == 0
    assert report.false_counterexamples == 0
    assert report.findings["compile"] == 0
    assert report.interesting / report.policies >= 0.8


@pytest.mark.soak
def test_soak_front_end_totality():
    pairs = int(os.environ.get("CAPC_SOAK_EXAMPLES", "1000"))

    @settings(max_examples=pairs, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(text=hostile_texts())
    def total(text):
        require(check_total(text, seconds=5.0))

    total()


@pytest.mark.soak
def test_soak_round_trip():
    examples = int(os.environ.get("CAPC_SOAK_EXAMPLES", "1000")) // 5

    @settings(max_examples=max(1, examples), deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(st.data())
    def round_trip(data):
        require(check_round_trip(data.draw(policies(data.draw(scenes()), data.draw(limits()))).source))

    round_trip()


def _progress(pairs: int):
    step = max(1, math.ceil(pairs / 5 / 20))

    def show(report) -> None:
        if report.policies % step == 0:
            print(f"  ... {report.pairs}/{pairs} pairs, verdicts {dict(report.verdicts)}, "
                  f"findings {dict(report.findings)}", flush=True)

    return show


