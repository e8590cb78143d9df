"""Counting trial results: per family and split, per arm, with 95% Wilson intervals.

The Wilson score interval (Wilson 1927) is used instead of the normal approximation because
suites are small (10-50 trials a cell) and rates near 0 or 1 are common: it never leaves
[0, 1] and does not collapse to a point at 0/n or n/n.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any, Iterable

Z95 = 1.959963984540054   # the standard normal's 97.5th percentile


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval for `successes` of `n` (0, 1 when n is 0: nothing is known)."""
    if n <= 0:
        return 0.0, 1.0
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    # at 0/n and n/n the bound is exactly 0 or 1 (the formula gives it up to rounding)
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return low, high


def overlap(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return a[0] <= b[1] and b[0] <= a[1]


def summarize(results: Iterable[dict], arm: str = "verified") -> dict[str, Any]:
    """Counts of one arm over some trial results (failed jobs count as trials that failed)."""
    results = list(results)
    n = len(results)
    arms = [r.get(arm) or {} for r in results]
    successes = sum(bool(a.get("success")) for a in arms)
    low, high = wilson(successes, n)
    stages, reasons, events, unsafe_by, errors = Counter(), Counter(), Counter(), Counter(), Counter()
    for a in arms:
        if a.get("error"):
            errors[a["error"].get("code") or "job failed"] += 1
        refusal = a.get("refusal")
        if refusal:
            stages[refusal["stage"]] += 1
            reasons[refusal["reason"]] += 1
        events.update(a.get("outcome_events") or {})
        unsafe_by.update(a.get("unsafe_by_limit") or {})
    models = [r.get("model") or {} for r in results]
    requests = sum(m.get("requests", 0) for m in models)
    token_counts = [m["tokens"] for m in models if m.get("tokens") is not None]
    model_seconds = sum(m.get("seconds", 0.0) for m in models)
    return {
        "trials": n,
        "successes": successes,
        "rate": successes / n if n else None,
        "interval": [round(low, 4), round(high, 4)],
        "refusals": sum(stages.values()),
        "refusals_by_stage": dict(stages.most_common()),
        "refusals_by_reason": dict(reasons.most_common()),
        "repaired": sum(1 for a in arms if a.get("repairs", 0) > 0 and a.get("verdict") in ("accepted", "guarded")),
        "repairs": sum(a.get("repairs", 0) for a in arms),
        "monitor_stops": sum(a.get("monitor_stops", 0) for a in arms),
        "outcome_events": dict(events.most_common()),
        "unsafe_executed": sum(a.get("unsafe_executed", 0) for a in arms),
        "unsafe_by_limit": dict(unsafe_by.most_common()),
        "task_done": sum(1 for a in arms if a.get("task_done")),
        "errors": sum(errors.values()),
        "errors_by_code": dict(errors.most_common()),
        "model_requests": requests,
        "tokens": sum(token_counts) if token_counts else None,
        "model_seconds": round(model_seconds, 3),
        "seconds_per_request": round(model_seconds / requests, 4) if requests else None,
    }


def aggregate(results: list[dict], arms: tuple[str, ...] = ("verified",)) -> dict[str, Any]:
    """Per family and split, per family, per split and overall, for each arm."""
    families = list(dict.fromkeys(r["family"] for r in results))
    splits = [s for s in ("seen", "unseen") if any(r["split"] == s for r in results)]
    out: dict[str, Any] = {}
    for arm in arms:
        rows = []
        for family in families:
            mine = [r for r in results if r["family"] == family]
            kind = mine[0].get("kind", family)
            for split in splits:
                cell = [r for r in mine if r["split"] == split]
                if cell:
                    rows.append({"family": family, "kind": kind, "split": split, **summarize(cell, arm)})
            rows.append({"family": family, "kind": kind, "split": "all", **summarize(mine, arm)})
        by_split = [{"family": "all", "kind": "", "split": s,
                     **summarize([r for r in results if r["split"] == s], arm)} for s in splits]
        out[arm] = {"rows": rows, "splits": by_split,
                    "total": {"family": "all", "kind": "", "split": "all", **summarize(results, arm)}}
    return out
