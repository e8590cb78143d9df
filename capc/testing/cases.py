"""Whole cases for properties 1 and 2: a generated scene, limits and policy, and the runs
to compare the verifier's verdicts against (`cases()`), and `evaluate`, which checks them."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable

from capc.compiler.scene import Scene
from capc.diagnostics import CompileError
from capc.limits import DEFAULT_LIMITS, ResourceLimits
from capc.safety.spec import SafetySpec
from capc.testing.harness import get_field
from capc.testing.properties import (
    Finding, check_counterexamples, check_soundness, stopped_on_unfinished_path,
)
from capc.testing.running import run_kinematic, stop_of, wrong_grasp_before


RECHECK_FACTOR = 10   # the second verification of a case gets this many times the budget (see evaluate)


def recheck_limits(limits: ResourceLimits) -> ResourceLimits:
    """The verification budget (solver resources and executor steps) times RECHECK_FACTOR."""
    return limits.with_changes(solver_rlimit=limits.solver_rlimit * RECHECK_FACTOR,
                               verify_steps=limits.verify_steps * RECHECK_FACTOR)


@dataclass(frozen=True)
class WorldRun:
    """One run of a case: the objects truly at `world`; `noise` > 0 adds a fresh perception
    error (clipped to the tolerance) to every query, seeded by `seed`."""

    world: Scene
    noise: float = 0.0
    seed: int = 0


@dataclass(frozen=True)
class Case:
    scene: Scene
    spec: SafetySpec
    policy: Any              # capc.testing.policies.GeneratedPolicy
    runs: tuple[WorldRun, ...]
    any_scene: bool = False  # verified for every placement of the scene's objects

    def __repr__(self) -> str:  # what hypothesis prints for a falsifying example: readable
        runs = "; ".join(f"world {[list(map(float, o.position)) for o in r.world.objects]} "
                         f"noise {r.noise} seed {r.seed}" for r in self.runs)
        mode = "any scene (every placement of these objects)" if self.any_scene else "this scene"
        return (f"Case(verified for {mode}\n--- policy ---\n{self.policy.source}--- scene ---\n"
                f"{self.scene.to_json()}\n--- limits ---\n{self.spec.to_json()}\n"
                f"--- runs ---\n{runs})")

    def _repr_pretty_(self, printer, cycle) -> None:  # hypothesis's printer asks for this first
        printer.text(repr(self))


def cases(vary_limits: bool = True, n_worlds: tuple[int, int] = (1, 3), any_scene_share: int = 4,
          with_rules: bool = True):
    """Strategy: (scene, spec, generated policy, runs). Mostly scene mode: the runs' worlds lie
    within the perception tolerance of the scene; about one case in `any_scene_share` is
    verified for any placement of the scene's objects and run with the objects placed anywhere
    admissible. Some runs add perception noise (fresh per query, clipped to the tolerance).
    With `with_rules`, the limits carry up to three rules of the cell about the scene's objects
    (capc.testing.strategies.rules) in about half the cases."""
    from hypothesis import strategies as st

    from capc.safety.spec import default_spec
    from capc.testing.policies import policies
    from capc.testing.strategies import limits, placements, rules, scenes, worlds

    specs = st.one_of(st.just(default_spec()), limits()) if vary_limits else st.just(default_spec())

    @st.composite
    def build(draw) -> Case:
        scene = draw(scenes())
        spec = draw(specs)
        if with_rules and draw(st.booleans()):
            spec = spec.with_changes(rules=draw(rules(scene)))
        policy = draw(policies(scene, spec))
        any_scene = any_scene_share > 0 and draw(st.integers(0, any_scene_share - 1)) == any_scene_share - 1
        where = placements(scene) if any_scene else worlds(scene, spec)
        runs = []
        for _ in range(draw(st.integers(*n_worlds))):
            noise = draw(st.sampled_from([0.0, spec.perception_tolerance]))
            runs.append(WorldRun(draw(where), noise, draw(st.integers(0, 2 ** 16))))
        return Case(scene, spec, policy, tuple(runs), any_scene)

    return build()


@dataclass(frozen=True)
class CaseResult:
    verdict: str | None            # accepted | guarded | rejected | None (did not compile)
    findings: tuple[Finding, ...]
    runs: int                      # (policy, world) pairs run
    stops: int                     # of those, runs the monitor stopped
    obligations: dict              # verdict -> count
    seconds_verify: float
    seconds_run: float
    unfinished_stops: int = 0      # stops on a path the verifier left unknown, even with the RECHECK_FACTOR budget
    wrong_grasp_stops: int = 0     # stops after a grasp took another object than the one named (E521)


def evaluate(case: Case, verify: Callable | None = None, counterexamples: bool = True,
             limits: ResourceLimits = DEFAULT_LIMITS) -> CaseResult:
    """Compile the case's policy, verify it against its scene (with `verify`, default the
    real verifier), run it in each world, and check properties 1 and 2."""
    from capc.compiler.frontend import compile_source

    if verify is None:
        from capc.safety.verifier import verify
    try:
        program = compile_source(case.policy.source, "<generated>", limits=limits)
    except CompileError as exc:
        finding = Finding("compile", f"a generated policy does not compile: {exc}",
                          {"source": case.policy.source})
        return CaseResult(None, (finding,), 0, 0, {}, 0.0, 0.0)
    start = time.monotonic()
    report = verify(program, case.spec, case.scene, any_scene=case.any_scene, limits=limits)
    verified = time.monotonic()
    findings: list[Finding] = []
    stops = unfinished = wrong_grasp = 0
    deeper = None
    for run in case.runs:
        outcome = run_kinematic(program, run.world, case.spec, limits, run.noise, run.seed)
        stop = stop_of(outcome)
        stops += stop is not None
        wrong_grasp += stop is not None and wrong_grasp_before(outcome, stop[0], get_field(stop[1], "role"))
        judged = report
        if stopped_on_unfinished_path(report, stop):
            # The verifier made no claim about this command (a path it did not finish may be
            # the run's). Give it a larger budget once, so that the stop is judged after all
            # when it then finishes.
            if deeper is None:
                deeper = verify(program, case.spec, case.scene, any_scene=case.any_scene,
                                limits=recheck_limits(limits))
            judged = deeper
            unfinished += stopped_on_unfinished_path(deeper, stop)
        finding = check_soundness(program, judged, run.world, case.spec, limits, outcome=outcome)
        if finding is not None:
            findings.append(_with_source(finding, case, run))
    if counterexamples:
        finding = check_counterexamples(program, report, case.scene, case.spec, limits)
        if finding is not None:
            findings.append(_with_source(finding, case))
    counts: dict[str, int] = {}
    for obligation in get_field(report, "obligations", ()) or ():
        key = get_field(obligation, "verdict")
        counts[key] = counts.get(key, 0) + 1
    return CaseResult(get_field(report, "verdict"), tuple(findings), len(case.runs), stops, counts,
                      verified - start, time.monotonic() - verified, unfinished, wrong_grasp)


def _with_source(finding: Finding, case: Case, run: WorldRun | None = None) -> Finding:
    detail = dict(finding.detail, source=case.policy.source, scene=case.scene.to_json(),
                  spec=case.spec.to_json(), any_scene=case.any_scene)
    if run is not None:
        detail.update(noise=run.noise, seed=run.seed)
    return Finding(finding.property, finding.message, detail)
