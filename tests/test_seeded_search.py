"""A seeded search gives one answer whatever the process has loaded before it: a fresh
`capc proptest` process and this test process (which has imported every capc module) find the
same world. Hypothesis would otherwise mix in the constants of the loaded modules
(capc.testing.seeded), and a Ray worker reused across jobs would search other worlds than a
new local worker (seen as a failure of tests/test_eval_ray.py under random order)."""

from __future__ import annotations

import importlib
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import capc
from capc.cli import main

ROOT = Path(__file__).resolve().parents[1]
ARGS = ["proptest", str(ROOT / "examples" / "edge_sensitive.py"), "--examples", "60", "--seed", "4", "--json"]


def _report(text: str) -> dict:
    report = json.loads(text)
    report.pop("seconds")
    report.pop("scene_file")
    report.pop("reproduce")
    return report


def test_a_fresh_process_and_a_loaded_one_find_the_same_world(tmp_path, capsys):
    fresh = subprocess.run([sys.executable, "-m", "capc", *ARGS, "--out", str(tmp_path / "a.yaml")],
                           capture_output=True, text=True, timeout=600)
    assert fresh.returncode == 1, fresh.stderr
    for module in pkgutil.walk_packages(capc.__path__, "capc."):
        try:
            importlib.import_module(module.name)
        except ImportError:
            pass  # an optional extra (ray, franky, mcap, ...) that this machine lacks
    assert main([*ARGS, "--out", str(tmp_path / "b.yaml")]) == 1
    loaded = _report(capsys.readouterr().out)
    assert loaded == _report(fresh.stdout) and loaded["found"]
    assert (tmp_path / "a.yaml").read_text() == (tmp_path / "b.yaml").read_text()
