"""A soak of the cell's rules alone: generated cases whose limits always carry 1-3 rules
(capc.testing.strategies.rules_from_seed), checked for soundness and real counterexamples
(properties 1 and 2, capc.testing.cases.evaluate), with the rule obligations counted by kind.

    .venv/bin/python bench/rules_soak.py [CASES] [SEED]

`make soak` has rules in about half its cases, and a rule only matters where the policy
holds or moves something the rule is about; this run says how often each kind was decided.
"""

from __future__ import annotations

import sys
import time
from collections import Counter, defaultdict

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from capc.safety.verifier import verify
from capc.testing.cases import Case, cases, evaluate
from capc.testing.strategies import rules_from_seed


def kind_of(rule) -> str:
    if rule.kind in ("carry_speed", "carry_height") and rule.state is not None:
        return "always_" + rule.kind.split("_")[1]
    if rule.kind == "avoid":
        return "avoid_" + type(rule.box).__name__.lower()
    if rule.kind == "before":
        return "before_first" if rule.first is not None else "before_require"
    if rule.kind == "never" and rule.event.kind == "move":
        return "never_move"
    return rule.kind


def main(n: int, seed: int) -> None:
    by_kind: dict[str, Counter] = defaultdict(Counter)
    totals: Counter = Counter()
    failures: list[str] = []

    @settings(max_examples=n, deadline=None, database=None, derandomize=False,
              suppress_health_check=list(HealthCheck))
    @given(cases(with_rules=False), st.integers(0, 2 ** 32 - 1))
    def one(case: Case, rule_seed: int) -> None:
        rules = rules_from_seed(rule_seed, case.scene.names()) if case.scene.names() else ()
        case = Case(case.scene, case.spec.with_changes(rules=rules), case.policy, case.runs, case.any_scene)
        kinds = {r.name: kind_of(r) for r in rules}
        reports = []

        def capturing(*args, **kwargs):
            reports.append(verify(*args, **kwargs))
            return reports[-1]

        result = evaluate(case, verify=capturing)
        totals["cases"] += 1
        totals["runs"] += result.runs
        totals["stops"] += result.stops
        totals[result.verdict or "did not compile"] += 1
        for o in (reports[0].obligations if reports else ()):
            if o.property in kinds:
                by_kind[kinds[o.property]][o.verdict] += 1
        for finding in result.findings:
            totals[finding.property] += 1
            failures.append(str(finding)[:300])

    import random

    random.seed(seed)
    start = time.monotonic()
    one()
    print(f"{totals['cases']} cases, {totals['runs']} runs in {time.monotonic() - start:.0f} s; "
          f"accepted {totals['accepted']} / guarded {totals['guarded']} / rejected {totals['rejected']}; "
          f"monitor stops {totals['stops']}")
    print(f"soundness failures {totals['soundness']}, false counterexamples {totals['counterexample']}, "
          f"did not compile {totals['compile'] + totals['did not compile']}")
    print("rule obligations by kind (proved / unknown / violated):")
    for kind in sorted(by_kind):
        c = by_kind[kind]
        print(f"  {kind:16} {c['proved']:5} / {c['unknown']:4} / {c['violated']:4}")
    for line in failures[:10]:
        print("FINDING", line)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200, int(sys.argv[2]) if len(sys.argv) > 2 else 0)
