"""`capc run`: compile, verify (reject before moving), execute, report; exit codes 0/1/2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from capc.cli import main

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "put_block_in_bowl.py"

GUARDED_OOB = ("x = 0.0\n"
               "i = 0\n"
               "while i < 40:\n"
               "    x = x + 0.01\n"
               "    i = i + 1\n"
               "    move_to([x, -0.5, 0.1])\n")


@pytest.fixture(autouse=True)
def private_audit_store(tmp_path, monkeypatch):
    monkeypatch.setenv("CAPC_AUDIT_DB", str(tmp_path / "audit.db"))
    return tmp_path / "audit.db"


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_accepted_example_runs_to_completion(capsys):
    code = main(["run", str(EXAMPLE)])
    out = capsys.readouterr().out
    assert code == 0
    assert "accepted" in out and "ran on kinematic: completed" in out
    assert "monitor: no intervention" in out
    assert "task block_in_bowl(first block, first bowl): done" in out
    assert "red block     (-0.100, -0.400,  0.025)" in out  # the scene next to the example was used


def test_json_outcome(capsys):
    assert main(["run", str(EXAMPLE), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["verdict"] == "accepted" and data["run"]["status"] == "completed"
    assert data["run"]["task_result"]["done"] is True and data["run"]["setpoints"] > 0
    assert data["scene"].endswith("put_block_in_bowl.scene.yaml")


def test_rejected_policy_moves_nothing(tmp_path, capsys):
    policy = write(tmp_path, "far.py", "move_to([0.5, -0.5, 0.1])\n")
    assert main(["run", policy, "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["verdict"] == "rejected" and data["run"] is None
    assert data["diagnostics"][0]["line"] == 1


def test_guarded_policy_is_stopped_by_the_monitor(tmp_path, capsys):
    policy = write(tmp_path, "guarded.py", GUARDED_OOB)
    assert main(["run", policy]) == 1
    captured = capsys.readouterr()
    assert "guarded" in captured.out and "stopped by monitor" in captured.out
    assert "monitor: stopped move_to" in captured.out and "limit workspace exceeded by 0.01" in captured.out
    assert "error[E510]" in captured.err and "guarded.py:6:5" in captured.err


def test_budget_exhausted_exits_1(tmp_path, capsys):
    policy = write(tmp_path, "spin.py", "while True:\n    pass\n")
    assert main(["run", policy, "--max-steps", "2000", "--unverified", "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["run"]["status"] == "budget_exhausted"
    assert "step budget exhausted after 2,000 steps" in data["run"]["message"]


def test_run_is_recorded_in_the_audit_store(private_audit_store, capsys):
    assert main(["run", str(EXAMPLE)]) == 0
    from capc.audit.store import open_store

    with open_store(str(private_audit_store)) as store:
        records = list(store.iter_records())
    run, = [r for r in records if r["kind"] == "run"]
    assert run["run_status"] == "completed" and run["verdict"] == "accepted"
    assert run["run"]["task_result"]["done"] is True


@pytest.mark.parametrize("argv, fragment", [
    (["run", "/nonexistent/policy.py"], "not found"),
    (["run", str(EXAMPLE), "--record", "out.gif"], "--record needs --backend sim"),
    (["run", str(EXAMPLE), "--max-steps", "0"], "--max-steps"),
    (["run", str(EXAMPLE), "--scene", "/nonexistent/scene.yaml"], "scene"),
])
def test_usage_and_input_errors_exit_2(argv, fragment, capsys):
    assert main(argv) == 2
    assert fragment in capsys.readouterr().err


def test_subprocess_has_no_traceback(tmp_path):
    policy = write(tmp_path, "bad.py", "x = 1 / 0\nmove_to([0, -0.5, 0.1])\n")
    proc = subprocess.run([sys.executable, "-m", "capc", "run", policy, "--unverified"], capture_output=True,
                          text=True, timeout=60, env={"CAPC_AUDIT_DB": "off", "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr and "error[E501]: division by zero" in proc.stderr


def test_trace_prints_each_robot_call(capsys):
    assert main(["run", str(EXAMPLE), "--trace"]) == 0
    err = capsys.readouterr().err
    assert "trace: call 1 (line 4): get_obj_names()" in err
    assert "put_first_on_second(arg1='red block', arg2='blue bowl', speed=None)" in err


@pytest.mark.slow
def test_a_sim_run_prints_only_what_capc_wrote(tmp_path):
    """PyBullet's C code prints "pybullet build time: ..." on import; `capc run --backend sim`
    shows nothing but its own lines (tests/own_output.py compares the process's output with
    what capc wrote through sys.stdout and sys.stderr)."""
    import os

    from own_output import run_recorded

    proc, written = run_recorded("run", str(EXAMPLE), "--backend", "sim", cwd=tmp_path,
                                 env=dict(os.environ, CAPC_AUDIT_DB="off"))
    assert proc.returncode == 0, proc.stderr
    assert "ran on sim: completed" in written["stdout"]
    assert (proc.stdout, proc.stderr) == (written["stdout"], written["stderr"])
    assert "pybullet build time" not in proc.stdout + proc.stderr
