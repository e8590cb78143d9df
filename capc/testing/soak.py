"""The long run of properties 1 and 2 (`make soak N=...`): many (policy, world) pairs, counted.

Failures are counted rather than raised, so one run reports everything it saw: the verdict
distribution, soundness failures, false counterexamples, generated policies that did not
compile, and the share of generated policies with at least one motion and at least one loop
or branch. The first few failures are kept whole (source, scene, limits) for a bug report.
"""

from __future__ import annotations

import json
import math
import time
from collections import Counter
from dataclasses import dataclass, field

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed

from capc.testing.cases import RECHECK_FACTOR, CaseResult, cases, evaluate
from capc.testing.properties import Finding
from capc.testing.seeded import process_independent

KEEP_FINDINGS = 5
KEEP_ALL = 500          # findings kept whole for `CAPC_SOAK_FINDINGS=path.json`


@dataclass
class SoakReport:
    policies: int = 0
    pairs: int = 0
    verdicts: Counter = field(default_factory=Counter)
    obligations: Counter = field(default_factory=Counter)
    findings: Counter = field(default_factory=Counter)     # property -> count
    causes: Counter = field(default_factory=Counter)       # "property/cause" -> count
    failing_policies: Counter = field(default_factory=Counter)  # property -> policies with one
    examples: list[Finding] = field(default_factory=list)
    all_findings: list[Finding] = field(default_factory=list)
    interesting: int = 0
    any_scene: int = 0             # cases verified for every placement of their objects
    stops: int = 0
    unfinished_stops: int = 0      # stops the verifier made no claim about (path left unknown)
    wrong_grasp_stops: int = 0     # stops after a grasp took another object than named: no claim
    seconds: float = 0.0
    seconds_verify: float = 0.0
    seconds_run: float = 0.0

    def add(self, result: CaseResult, interesting: bool, any_scene: bool = False) -> None:
        self.policies += 1
        self.any_scene += any_scene
        self.pairs += result.runs
        self.verdicts[result.verdict or "did not compile"] += 1
        self.obligations.update(result.obligations)
        self.interesting += interesting
        self.stops += result.stops
        self.unfinished_stops += result.unfinished_stops
        self.wrong_grasp_stops += result.wrong_grasp_stops
        self.seconds_verify += result.seconds_verify
        self.seconds_run += result.seconds_run
        for finding in result.findings:
            if len(self.all_findings) < KEEP_ALL:
                self.all_findings.append(finding)
            self.findings[finding.property] += 1
            self.causes[f"{finding.property}/{finding.detail.get('cause', '-')}"] += 1
            self._keep_example(finding)
        for prop in {f.property for f in result.findings}:
            self.failing_policies[prop] += 1

    def merge(self, other: "SoakReport") -> None:
        """Add another shard's counts (capc.testing.sharded); times add up as CPU time."""
        for name in ("policies", "pairs", "interesting", "any_scene", "stops", "unfinished_stops",
                     "wrong_grasp_stops", "seconds", "seconds_verify", "seconds_run"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for name in ("verdicts", "obligations", "findings", "causes", "failing_policies"):
            getattr(self, name).update(getattr(other, name))
        self.all_findings.extend(other.all_findings[:KEEP_ALL - len(self.all_findings)])
        for finding in other.examples:
            self._keep_example(finding)

    def _keep_example(self, finding: Finding) -> None:
        """Keep the first KEEP_FINDINGS findings whole, one per property and cause."""
        if len(self.examples) < KEEP_FINDINGS and all(
                e.property != finding.property or e.detail.get("cause") != finding.detail.get("cause")
                for e in self.examples):
            self.examples.append(finding)

    @property
    def soundness_failures(self) -> int:
        return self.findings["soundness"]

    @property
    def false_counterexamples(self) -> int:
        return self.findings["counterexample"]

    def _by_cause(self, prop: str) -> str:
        parts = [f"{key.split('/', 1)[1]} {n}" for key, n in sorted(self.causes.items())
                 if key.split("/", 1)[0] == prop]
        policies = self.failing_policies[prop]
        return (f" (in {policies} policies; by cause: {', '.join(parts)})" if parts else "")

    def summary(self) -> str:
        share = self.interesting / self.policies if self.policies else 0.0
        verdicts = ", ".join(f"{k} {v} ({v / max(self.policies, 1):.0%})"
                             for k, v in sorted(self.verdicts.items()))
        obligations = ", ".join(f"{k} {v}" for k, v in sorted(self.obligations.items()))
        lines = [
            f"soak: {self.pairs} (policy, world) pairs from {self.policies} generated policies "
            f"in {self.seconds:.0f} s (verify {self.seconds_verify:.0f} s, run {self.seconds_run:.0f} s)",
            f"  verdicts:               {verdicts} ({self.any_scene} of the policies verified "
            f"for every placement of their objects, the rest for their scene +- tolerance)",
            f"  obligations:            {obligations}",
            f"  monitor stops:          {self.stops} of {self.pairs} runs ({self.unfinished_stops} at a command "
            f"proved on the explored paths, in a program with paths left unknown before it even with a "
            f"{RECHECK_FACTOR}x budget: no claim; {self.wrong_grasp_stops} after a grasp took another object "
            f"than the one named, E521: no claim)",
            f"  soundness failures:     {self.soundness_failures}{self._by_cause('soundness')}",
            f"  false counterexamples:  {self.false_counterexamples}{self._by_cause('counterexample')}",
            f"  counterexamples only within the margin (monitor lets them pass): "
            f"{self.findings['margin_counterexample']}{self._by_cause('margin_counterexample')}",
            f"  did not compile:        {self.findings['compile']}",
            f"  >= 1 motion and >= 1 loop or branch: {self.interesting}/{self.policies} ({share:.1%})",
        ]
        for finding in self.examples:
            lines.append(f"  FAILURE {finding}")
            detail = finding.detail
            if "source" in detail:
                lines += ["    | " + line for line in detail["source"].splitlines()]
            for key in ("scene", "spec", "world", "noise", "seed"):
                if key in detail:
                    lines.append(f"    {key}: {json.dumps(detail[key], default=str)}")
        return "\n".join(lines)

    def write_findings(self, path: str) -> None:
        """Every kept finding, whole (source, scene, limits, world, counterexample), as JSON."""
        with open(path, "w", encoding="utf-8") as handle:
            json.dump([{"property": f.property, "message": f.message, **f.detail}
                       for f in self.all_findings], handle, default=str, indent=1)


def soak(pairs: int, worlds_per_policy: int = 5, seed: int | None = None,
         progress=None) -> SoakReport:
    """Run about `pairs` (policy, world) pairs; `progress(report)` is called after each policy.
    With a `seed` the same pairs every time (each shard of a sharded soak has its own)."""
    report = SoakReport()
    n_policies = max(1, math.ceil(pairs / worlds_per_policy))
    strategy = cases(n_worlds=(worlds_per_policy, worlds_per_policy))

    @settings(max_examples=n_policies, database=None, deadline=None, derandomize=False,
              phases=(Phase.generate,), suppress_health_check=list(HealthCheck))
    @given(case=strategy)
    def one(case) -> None:
        report.add(evaluate(case), case.policy.interesting, case.any_scene)
        if progress is not None:
            progress(report)

    if seed is not None:
        one = hypothesis_seed(seed)(one)
    start = time.monotonic()
    with process_independent():
        one()
    report.seconds = time.monotonic() - start
    return report
