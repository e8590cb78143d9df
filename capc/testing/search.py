"""Search for a world in which a user's policy fails, and shrink it (what `capc proptest` runs).

Hypothesis drives the search: each example places the policy's objects somewhere admissible
(edge-hugging placements are drawn often: most policies that break, break near the table's
edge) and runs the policy on the kinematic backend. A failing example is shrunk by
hypothesis (fewer optional objects, simpler coordinates), then polished by rounding each
coordinate as far as the failure survives, so that the reported world is one a person can
read and the reproduction file is short.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, replace

from hypothesis import HealthCheck, Phase, Verbosity, given, seed as hypothesis_seed, settings
from hypothesis import strategies as st

from capc.compiler.scene import Scene, make_object, random_scene
from capc.testing.harness import PolicyUnderTest, RunFailure
from capc.testing.seeded import process_independent
from capc.testing.strategies import admissible, placements, worlds

# Decimal places tried, coarsest first, when polishing a shrunk world.
ROUNDINGS = (1, 2, 3)


@dataclass(frozen=True)
class SearchResult:
    examples: int                 # worlds tried (hypothesis calls, shrinking included)
    seconds: float
    world: Scene | None = None    # the shrunk failing world, None when no failure was found
    failure: RunFailure | None = None
    noise: float = 0.0            # perception noise of the failing run (near-scene mode)
    noise_seed: int = 0

    @property
    def found(self) -> bool:
        return self.world is not None


@dataclass(frozen=True)
class Trial:
    """One run of the search: where the objects are, and the camera's noise and seed."""

    world: Scene
    noise: float = 0.0
    noise_seed: int = 0


class _Failed(Exception):
    def __init__(self, trial: Trial, failure: RunFailure):
        super().__init__(failure.message)
        self.trial, self.failure = trial, failure


def object_set(policy: PolicyUnderTest, scene: Scene | None, seed: int) -> tuple[Scene, list[str]]:
    """The objects to place and which of them are required. With a scene: its objects;
    without: every object the policy names, plus a CaP-style random set (seeded)."""
    required = policy.mentioned_objects()
    if scene is None:
        names = list(dict.fromkeys(required + random_scene(seed).names()))
        scene = Scene(tuple(make_object(n, (0.0, -0.5)) for n in names), "<proptest objects>")
    present = set(scene.names())
    return scene, [n for n in required if n in present]


def find_failure(policy: PolicyUnderTest, scene: Scene | None = None, examples: int = 200,
                 seed: int = 0, edge_bias: float = 0.5, near_scene: bool = False) -> SearchResult:
    """Run `policy` in up to `examples` sampled worlds; return the first failure, shrunk.

    Default: the objects placed anywhere admissible. `near_scene` (needs `scene`): the objects
    within the perception tolerance of where `scene` has them, half the runs with per-query
    camera noise (clipped to the tolerance): is the policy robust to what it cannot see?"""
    policy.program()  # a CompileError belongs to the caller, not to a world
    calls = [0]

    def attempt(trial: Trial) -> RunFailure | None:
        calls[0] += 1
        return policy.failure(policy.run(trial.world, noise=trial.noise, seed=trial.noise_seed))

    if near_scene:
        if scene is None:
            raise ValueError("near-scene search needs a scene")
        tol = policy.spec.perception_tolerance
        strategy = st.builds(Trial, worlds(scene, policy.spec), st.sampled_from([0.0, tol]),
                             st.integers(0, 2 ** 16))
        valid = lambda world: within_tolerance(world, scene, tol)  # noqa: E731
    else:
        objects, required = object_set(policy, scene, seed)
        strategy = placements(objects, edge_bias=edge_bias, required=required).map(Trial)
        valid = admissible

    @hypothesis_seed(seed)
    @settings(max_examples=examples, database=None, deadline=None, derandomize=False,
              verbosity=Verbosity.quiet, report_multiple_bugs=False,
              phases=(Phase.explicit, Phase.generate, Phase.shrink),
              suppress_health_check=list(HealthCheck))
    @given(trial=strategy)
    def probe(trial: Trial) -> None:
        failure = attempt(trial)
        if failure is not None:
            raise _Failed(trial, failure)

    start = time.monotonic()
    try:
        with process_independent():
            probe()
    except _Failed as found:
        trial, failure = polish(found.trial, found.failure, attempt, valid)
        return SearchResult(calls[0], time.monotonic() - start, trial.world, failure,
                            trial.noise, trial.noise_seed)
    return SearchResult(calls[0], time.monotonic() - start)


def within_tolerance(world: Scene, scene: Scene, tol: float) -> bool:
    seen = {o.name: o.position for o in scene.objects}
    return all(abs(a - b) <= tol + 1e-12 for o in world.objects for a, b in zip(o.position, seen[o.name]))


def polish(trial: Trial, failure: RunFailure, attempt, valid=admissible) -> tuple[Trial, RunFailure]:
    """Round each coordinate to the fewest decimals that keep the same kind of failure."""
    for i in range(len(trial.world.objects)):
        for axis in (0, 1):
            for places in ROUNDINGS:
                candidate = _with_coordinate(trial.world, i, axis, places)
                if candidate is None:
                    break
                if not valid(candidate):
                    continue
                again = attempt(replace(trial, world=candidate))
                if again is not None and again.kind == failure.kind:
                    trial, failure = replace(trial, world=candidate), again
                    break
    return trial, failure


def _with_coordinate(world: Scene, i: int, axis: int, places: int) -> Scene | None:
    obj = world.objects[i]
    position = list(obj.position)
    rounded = round(position[axis], places)
    if rounded == position[axis]:
        return None  # already this round: nothing coarser to try further down
    position[axis] = rounded
    objects = list(world.objects)
    objects[i] = replace(obj, position=tuple(position))
    return Scene(tuple(objects), world.source)


def scene_yaml(world: Scene, comment: str = "") -> str:
    """The world as a scene file `capc run --scene` reads (positions to 6 decimals)."""
    lines = [f"# {line}" for line in comment.splitlines()] + ["objects:"]
    for obj in world.objects:
        coords = ", ".join(f"{v:.6g}" for v in obj.position)
        lines.append(f"  - {{name: {_yaml_name(obj.name)}, position: [{coords}]}}")
    return "\n".join(lines) + "\n"


def _yaml_name(name: str) -> str:
    safe = all(c.isalnum() or c in " _-" for c in name) and name == name.strip()
    return name if safe else '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def random_seed() -> int:
    return random.SystemRandom().randrange(2 ** 31)


__all__ = ["SearchResult", "Trial", "find_failure", "polish", "scene_yaml", "object_set", "random_seed",
           "within_tolerance"]
