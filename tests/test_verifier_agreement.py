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
from capc.safety.spec import default_spec

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


def _uses_keep_out_or_any_scene(path: Path) -> bool:
    text = path.read_text()
    return "# limits:" in text or "# mode: any-scene" in text


CASES = [p for p in EXAMPLES + SAFE if not _uses_keep_out_or_any_scene(p)]


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
    spec = default_spec().with_changes(perception_tolerance=0.0)
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
    scene, spec = _scene(path), default_spec()
    report = V.verify(program, spec, scene)
    if report.verdict != "accepted":
        pytest.skip(f"{report.verdict}: nothing proved to check")
    rng = random.Random(path.stem)
    for seed in range(3):
        world = _perturbed(scene, rng, spec.perception_tolerance)
        outcome = execute(program, world, spec, backend="kinematic", noise=0.01, seed=seed)
        assert outcome.status != "stopped_by_monitor", outcome.message
