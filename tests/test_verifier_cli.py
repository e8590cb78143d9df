"""`capc check` with the verifier: verdicts, exit codes 0/3/1, messages, --json, --any-scene."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from capc.cli import main

ROOT = Path(__file__).parent.parent
SCENE = str(ROOT / "tests" / "programs" / "verifier_scene.yaml")
UNSAFE = ROOT / "tests" / "programs" / "unsafe"
SAFE = ROOT / "tests" / "programs" / "safe"


@pytest.fixture(autouse=True)
def private_audit_store(tmp_path, monkeypatch):
    monkeypatch.setenv("CAPC_AUDIT_DB", str(tmp_path / "audit.db"))


def check(args, capsys):
    code = main(["check", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_safe_policy_is_accepted_exit_0(capsys):
    code, out, err = check([str(SAFE / "offset_right_of_block.py"), "--scene", SCENE], capsys)
    assert code == 0 and err == ""
    assert "accepted: 6 of 6 motion obligations proved for the scene within perception tolerance" in out


def test_unsafe_policy_is_rejected_with_location_and_counterexample(capsys):
    path = str(UNSAFE / "offset_right_of_block.py")
    code, out, err = check([path, "--scene", SCENE], capsys)
    assert code == 1
    assert "error[E301]: put_first_on_second() (carry) breaks the workspace limit" in err
    assert f"--> {path}:4:1" in err
    assert "4 | put_first_on_second('blue block', pos + [0.08, 0])" in err
    assert "counterexample:" in err and "replayed concretely: confirmed" in err
    assert "= help: keep every target inside the workspace" in err
    assert err.rstrip().endswith("rejected (1 error)")


def test_guarded_policy_exits_3(tmp_path, capsys):
    path = tmp_path / "p.py"
    path.write_text("x = 0.0\nwhile get_obj_pos('red block')[0] > x:\n    x = x + 0.01\nmove_to([x, -0.5, 0.1])\n")
    code, out, err = check([str(path), "--scene", SCENE], capsys)
    assert code == 3
    assert "warning[E305]" in err and "guarded" in out and "runtime monitor" in out


def test_json_carries_every_obligation(capsys):
    path = str(UNSAFE / "segment_crosses_mast.py")
    limits = str(ROOT / "tests" / "programs" / "keep_out_limits.yaml")
    code, out, _ = check([path, "--scene", SCENE, "--limits", limits, "--json"], capsys)
    data = json.loads(out)
    assert code == 1 and data["verdict"] == "rejected"
    [d] = [d for d in data["diagnostics"] if d["kind"] == "safety"]
    assert (d["code"], d["line"], d["col"]) == ("E302", 4, 1)
    assert d["counterexample"]["limit"] == "keep_out:camera mast" and d["counterexample"]["replayed"]
    assert data["obligations"] and all({"verdict", "span", "counterexample", "property"} <= set(o)
                                       for o in data["obligations"])
    assert data["verification"]["mode"] == "scene"


def test_any_scene_flag(capsys):
    path = str(UNSAFE / "right_of_bowl_any_scene.py")
    code, _, _ = check([path, "--scene", SCENE], capsys)
    assert code == 0  # in this scene the bowl is far from the edge
    code, out, err = check([path, "--scene", SCENE, "--any-scene"], capsys)
    assert code == 1 and "E301" in err


def test_without_a_scene_every_placement_is_checked(capsys):
    code, out, _ = check([str(SAFE / "right_of_bowl_any_scene.py"), "--json"], capsys)
    data = json.loads(out)
    assert code == 0 and data["verification"]["mode"] == "any_scene"
    assert data["verification"]["objects"] == ["blue bowl", "red block"]


def test_cli_process_rejects_without_traceback_and_fast():
    import resource

    env = dict(os.environ, PYTHONPATH=str(ROOT))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run([sys.executable, "-m", "capc.cli", "check", str(UNSAFE / "speed_above_limit.py"),
                           "--scene", SCENE], capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert proc.returncode == 1 and "error[E303]" in proc.stderr and "Traceback" not in proc.stderr
    # CPU time of the whole process (measured: 0.3-0.5 s); its wall time on a shared machine
    # measures the queue (it once took 11 s there)
    assert (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime) < 5.0
