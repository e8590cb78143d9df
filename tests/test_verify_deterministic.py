"""The same inputs give the same report, whatever the machine and its load.

The verification budget is counted in Z3 resource units and executor steps
(capc/safety/budget.py), not in seconds. `blocks_horizontal_line.py --any-scene` is the
example that runs its budget out (with a 2 s wall-clock budget it proved 360 to 486
obligations depending on the load); here `capc check --json` runs it three times, and once
more beside a process that keeps a CPU busy, and every report must be the same apart from
the fields that are timings by name.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
POLICY = ROOT / "examples" / "blocks_horizontal_line.py"
TIMINGS = {"seconds", "solver_seconds", "timings"}


def without_timings(value):
    if isinstance(value, dict):
        return {k: without_timings(v) for k, v in value.items() if k not in TIMINGS}
    if isinstance(value, list):
        return [without_timings(v) for v in value]
    return value


def check_json(*args: str) -> dict:
    proc = subprocess.run([sys.executable, "-m", "capc", "check", str(POLICY), *args, "--json"],
                          capture_output=True, text=True, cwd=ROOT, timeout=300,
                          env=dict(os.environ, CAPC_AUDIT_DB="off"))
    assert proc.returncode in (0, 1, 3), proc.stderr[-2000:]   # accepted, rejected, guarded
    return without_timings(json.loads(proc.stdout))


def test_three_runs_and_one_under_load_give_the_same_report():
    reports = [check_json("--any-scene") for _ in range(3)]
    burner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        reports.append(check_json("--any-scene"))
    finally:
        burner.kill()
        burner.wait()
    first = reports[0]
    budget = first["verification"]["budget"]
    # the budget ran out (this is the example that tests it), on its deterministic part
    assert first["verdict"] == "guarded" and budget["ran_out"] == "executor steps", budget
    for number, report in enumerate(reports[1:], start=2):
        assert report["verification"] == first["verification"], f"run {number} differs from run 1"
        assert report == first, f"run {number} differs from run 1"


def test_the_same_report_in_scene_mode():
    """In scene mode the example is accepted, well within the budget, every time."""
    scene = str(POLICY.with_suffix("").with_suffix(".scene.yaml"))
    reports = [check_json("--scene", scene) for _ in range(2)]
    assert reports[0]["verdict"] == "accepted" and reports[0]["verification"]["budget"]["ran_out"] is None
    assert reports[1] == reports[0]
