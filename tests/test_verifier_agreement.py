"""The verifier's executor against the runtime: same calls, and proofs the monitor respects.

* agreement: with a perception tolerance of zero every value is concrete, so the symbolic
  executor follows exactly one path; it must make the same robot-API calls, in the same
  order, from the same lines, as the runtime's interpreter driven by `execute()`.
* soundness spot check: a policy the verifier accepts in a scene is run on the kinematic
  backend in worlds within the tolerance of that scene (and with perception noise); the
  monitor must never stop it.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from capc.compiler.frontend import compile_file
from capc.compiler.scene import Scene, SceneObject, load_scene
from capc.runtime.execute import execute
from capc.safety import verifier as V
from capc.compiler.tabletop import CELL
from capc.safety.spec import default_spec, load_spec

ROOT = Path(__file__).parent.parent
EXAMPLES = sorted(p for p in (ROOT / "examples").glob("*.py")
                  if any((ROOT / "examples" / (p.stem + s)).exists() for s in (".scene.yaml", ".yaml")))
SAFE = sorted((ROOT / "tests" / "programs" / "safe").glob("*.py"))
CORPUS_SCENE = load_scene(str(ROOT / "tests" / "programs" / "verifier_scene.yaml"))


def _scene(path: Path) -> Scene:
    for suffix in (".scene.yaml", ".yaml"):
        candidate = path.parent / (path.stem + suffix)
        if candidate.exists():
            return load_scene(str(candidate))
    return CORPUS_SCENE


def _header(path: Path, key: str) -> str | None:
    for line in path.read_text().splitlines():
        if line.startswith(f"# {key}:"):
            return line.split(":", 1)[1].strip()
    return None


def _spec(path: Path):
    limits = _header(path, "limits")
    return load_spec(str(path.parent.parent / limits)) if limits else default_spec()


CASES = [p for p in EXAMPLES + SAFE if _header(p, "mode") != "any-scene"]
ANY_SCENE = [p for p in SAFE if _header(p, "mode") == "any-scene"]


def _verifier_calls(program, scene, spec, monkeypatch):
    calls = []
    original = V.VerifierSemantics.api

    def logging_api(self, ex, prim, args, span, index):
        calls.append((index, prim.name, span.line))
        return original(self, ex, prim, args, span, index)

    monkeypatch.setattr(V.VerifierSemantics, "api", logging_api)
    monkeypatch.setattr(V, "may_move", lambda program: True)  # execute even a policy that only talks
    return calls, V.verify(program, spec, scene)


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_executor_makes_the_interpreters_calls(path, monkeypatch):
    program = compile_file(str(path))
    scene = _scene(path)
    spec = _spec(path).with_changes(perception_tolerance=0.0)
    calls, report = _verifier_calls(program, scene, spec, monkeypatch)
    assert report.paths == 1
    outcome = execute(program, scene, spec, backend="kinematic")
    assert [(c["index"], c["name"], c["line"]) for c in outcome.calls] == calls


def _perturbed(scene: Scene, rng: random.Random, tol: float) -> Scene:
    objects = []
    for o in scene.objects:
        x, y, z = o.position
        objects.append(SceneObject(o.name, (x + rng.uniform(-tol, tol), y + rng.uniform(-tol, tol), z),
                                   o.kind, o.color))
    return Scene(tuple(objects), scene.source)


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_accepted_policies_never_trip_the_monitor(path):
    program = compile_file(str(path))
    scene, spec = _scene(path), _spec(path)
    report = V.verify(program, spec, scene)
    if report.verdict != "accepted":
        pytest.skip(f"{report.verdict}: nothing proved to check")
    rng = random.Random(path.stem)
    for seed in range(3):
        world = _perturbed(scene, rng, spec.perception_tolerance)
        outcome = execute(program, world, spec, backend="kinematic", noise=0.01, seed=seed)
        assert outcome.status != "stopped_by_monitor", outcome.message


@pytest.mark.parametrize("path", ANY_SCENE, ids=lambda p: p.stem)
def test_scene_free_proofs_hold_for_sampled_placements(path):
    program = compile_file(str(path))
    spec = _spec(path)
    report = V.verify(program, spec, any_scene=True)
    assert report.verdict == "accepted"
    area = CELL.spawn_area
    rng = random.Random(path.stem)
    for seed in range(5):
        objects = tuple(SceneObject(n, (rng.uniform(area.x.low, area.x.high), rng.uniform(area.y.low, area.y.high),
                                        CELL.resting_z(report_kind(n))), report_kind(n), "red")
                        for n in report.objects)
        outcome = execute(program, Scene(objects), spec, backend="kinematic", noise=0.01, seed=seed)
        assert outcome.status != "stopped_by_monitor", outcome.message


def report_kind(name: str) -> str:
    return "bowl" if name.endswith("bowl") else "block"


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_world_model_ends_where_the_kinematic_backend_ends(path, verifier_worlds):
    """With exact perception the verifier's world is concrete: after the run every object must
    stand where the kinematic backend put it (grasp, carry and release rules agree)."""
    program = compile_file(str(path))
    scene = _scene(path)
    spec = _spec(path).with_changes(perception_tolerance=0.0)
    worlds = verifier_worlds
    report = V.verify(program, spec, scene)
    outcome = execute(program, scene, spec, backend="kinematic")
    if report.paths != 1 or outcome.status != "completed":
        pytest.skip(f"{report.paths} paths, run {outcome.status}")
    final = outcome.final_positions
    world = worlds[0]
    for name in world.positions:
        position = world.true_position(name)  # a held object moves with the tool
        assert [round(float(v), 6) for v in position] == [round(float(v), 6) for v in final[name]], name


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_executor_charges_the_steps_the_run_charges(path, monkeypatch):
    """The executor charges the run's costs (capc.compiler.costs) to the path's step budget,
    so a policy that exhausts the run's budget ends the verifier's path too. It must never
    charge more than the interpreter does on the same path (else it would claim the run stops
    where it does not); on these policies it charges the same but for work it does not see."""
    from capc.runtime import execute as execute_module
    from capc.safety import symbolic

    program = compile_file(str(path))
    scene = _scene(path)
    spec = _spec(path).with_changes(perception_tolerance=0.0)
    counted = []
    original_run = symbolic.Executor.run

    def run(self):
        try:
            original_run(self)
        finally:
            counted.append(self.concrete.interp.steps)

    monkeypatch.setattr(symbolic.Executor, "run", run)
    report = V.verify(program, spec, scene)
    driver = [0]  # what the runtime adds for the motions themselves (plan steps, control ticks)
    original_move = execute_module._Run._move

    def move(self, call):
        before = self.interpreter.steps
        try:
            return original_move(self, call)
        finally:
            driver[0] += self.interpreter.steps - before

    monkeypatch.setattr(execute_module._Run, "_move", move)
    outcome = execute(program, scene, spec, backend="kinematic")
    if report.paths != 1 or outcome.status != "completed":
        pytest.skip(f"{report.paths} paths, run {outcome.status}")
    interpreted = outcome.steps - driver[0]
    assert 0 < counted[0] <= interpreted
    assert counted[0] >= 0.9 * interpreted  # the shared rule is really applied, not a token
