"""Fidelity of the two backends: the same generated policies on the kinematic backend (the
verifier's world model) and on the PyBullet sim, compared by where the objects end.

A policy *agrees* when every object's final position on the sim is within `AGREE` (2 cm) of
its final position on the kinematic backend. A disagreement is *reported* when the sim run
itself reported an observed or predicted outcome (capc.runtime.outcomes, E520-E526): the runtime told the
user that the world is not what the plan made. The bar (issue 12): agreement >= 98 % and
every disagreement reported. bench/fidelity.py prints the figures; a test keeps a small
fixed sample.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable

from capc import codes

AGREE = 0.02   # m: two final positions closer than this are the same place


@dataclass
class PolicyResult:
    source: str
    scene: Any
    status: tuple[str, str]                      # (kinematic, sim) run status
    distance: float                              # largest per-object distance between the runs
    events: list[dict] = field(default_factory=list)   # the sim run's outcome events
    same_path: bool = True                       # both runs made the same robot calls, in order

    @property
    def agrees(self) -> bool:
        return self.distance <= AGREE

    @property
    def reported(self) -> bool:
        return bool(self.events)


@dataclass
class FidelityReport:
    results: list[PolicyResult] = field(default_factory=list)
    skipped: int = 0                             # generated policies that did not compile
    seconds: float = 0.0

    @property
    def runs(self) -> int:
        return len(self.results)

    @property
    def agreeing(self) -> int:
        return sum(r.agrees for r in self.results)

    @property
    def disagreeing(self) -> list[PolicyResult]:
        return [r for r in self.results if not r.agrees]

    @property
    def unreported(self) -> list[PolicyResult]:
        return [r for r in self.disagreeing if not r.reported]

    @property
    def knife_edges(self) -> list[PolicyResult]:
        """Unreported disagreements where the two runs took different paths through the
        program: a branch on a perceived position that the sim's sub-millimetre settling
        decided the other way (generated policies compare with thresholds like 0.0 and scenes
        put objects exactly there). Both runs did what their plans said."""
        return [r for r in self.unreported if not r.same_path]

    def events(self) -> Counter:
        """Outcome events of the sim runs by code (E520 grasp on nothing, E524 knocked, ...)."""
        return Counter(e["code"] for r in self.results for e in r.events)

    def summary(self) -> dict[str, Any]:
        n, bad = self.runs, self.disagreeing
        events = self.events()
        return {
            "policies": n, "skipped": self.skipped, "agree": self.agreeing,
            "agreement": round(self.agreeing / n, 4) if n else None,
            "disagree": len(bad), "disagree_reported": len(bad) - len(self.unreported),
            "reported_share": round(1 - len(self.unreported) / len(bad), 4) if bad else 1.0,
            "unreported_other_path": len(self.knife_edges),
            "runs_with_events": sum(r.reported for r in self.results),
            "failed_grasps": sum(events[c] for c in (codes.E520, codes.E521, codes.E522)),
            "misplaced": events[codes.E523], "knocked": events[codes.E524],
            "obstructed": events[codes.E525], "out_of_reach": events[codes.E526],
            "events": dict(sorted(events.items())), "seconds": round(self.seconds, 1),
        }


def compare(kinematic: dict[str, list[float]], sim: dict[str, list[float]]) -> float:
    """The largest distance between an object's two final positions."""
    return max((math.dist(kinematic[name], sim[name]) for name in kinematic), default=0.0)


def run_pair(program, scene, spec, sim_backend) -> PolicyResult:
    from capc.runtime.execute import execute

    kin = execute(program, scene, spec, backend="kinematic")
    sim = execute(program, scene, spec, backend=sim_backend)
    path = [(c["name"], c["line"]) for c in kin.calls], [(c["name"], c["line"]) for c in sim.calls]
    return PolicyResult(program.source, scene, (kin.status, sim.status),
                        compare(kin.final_positions, sim.final_positions), list(sim.outcome_events),
                        same_path=path[0] == path[1])


def measure(n: int, seed: int = 0, sim_backend: Any = None, pick_and_place: bool = False,
            progress: Callable[[FidelityReport], None] | None = None) -> FidelityReport:
    """Run `n` generated (scene, policy) pairs, drawn deterministically from `seed`, on both
    backends under the default limits (the monitor stops what the limits forbid, at the same
    command on both: the commands are the same as long as what is perceived is).
    `pick_and_place` draws programs of picks and places only (in loops and branches)."""
    import time

    from hypothesis import HealthCheck, Phase, given, seed as seeded, settings
    from hypothesis import strategies as st

    from capc.compiler.frontend import compile_source
    from capc.diagnostics import CapcError
    from capc.safety.spec import default_spec
    from capc.testing.policies import PICK_AND_PLACE, STATEMENT_KINDS, policies
    from capc.testing.strategies import scenes

    spec = default_spec()
    report = FidelityReport()
    owned = sim_backend is None
    if owned:
        from capc.runtime.sim import SimBackend

        sim_backend = SimBackend()

    @st.composite
    def pairs(draw):
        scene = draw(scenes())
        return scene, draw(policies(scene, spec, kinds=PICK_AND_PLACE if pick_and_place else STATEMENT_KINDS))

    @seeded(seed)
    @settings(max_examples=n, database=None, deadline=None, phases=(Phase.generate,),
              suppress_health_check=list(HealthCheck))
    @given(pair=pairs())
    def one(pair) -> None:
        scene, policy = pair
        try:
            program = compile_source(policy.source, "<generated>")
        except CapcError:
            report.skipped += 1
            return
        report.results.append(run_pair(program, scene, spec, sim_backend))
        if progress is not None:
            progress(report)

    start = time.monotonic()
    try:
        one()
    finally:
        if owned:
            sim_backend.close()
    report.seconds = time.monotonic() - start
    return report
