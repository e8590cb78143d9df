"""`capc check`: exit codes, rustc-style output, --json, input errors without tracebacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from capc.cli import main
from capc.commands.check import check_policy

ROOT = Path(__file__).parent.parent
GOOD = "pos = get_obj_pos('red block')\nput_first_on_second('red block', 'blue bowl')\n"
BAD = "x = 1\npos = get_obj_pos(3)\n"


@pytest.fixture(autouse=True)
def private_audit_store(tmp_path, monkeypatch):
    """Checks are recorded in the audit store: keep the tests' records out of $HOME."""
    monkeypatch.setenv("CAPC_AUDIT_DB", str(tmp_path / "audit.db"))
    return tmp_path / "audit.db"


@pytest.fixture
def files(tmp_path):
    def write(name: str, text: str) -> str:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return str(path)
    return write


def run_cli(args, capsys):
    code = main(["check", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_good_policy_exits_0(files, capsys):
    code, out, err = run_cli([files("p.py", GOOD)], capsys)
    assert code == 0
    assert "accepted: 6 of 6 motion obligations proved" in out and err == ""


def test_bad_policy_prints_rustc_style_and_exits_1(files, capsys):
    path = files("p.py", BAD)
    code, out, err = run_cli([path], capsys)
    assert code == 1
    assert f"error[E100]" in err
    assert f"--> {path}:2:19" in err
    assert "2 | pos = get_obj_pos(3)" in err
    assert "                  ^" in err
    assert "rejected (1 error)" in err


def test_json_output(files, capsys):
    code, out, err = run_cli([files("p.py", BAD), "--json"], capsys)
    data = json.loads(out)
    assert code == 1 and data["verdict"] == "rejected"
    [d] = data["diagnostics"]
    assert (d["code"], d["line"], d["col"], d["kind"]) == ("E100", 2, 19, "type")
    code, out, _ = run_cli([files("q.py", GOOD), "--json"], capsys)
    assert code == 0 and json.loads(out)["diagnostics"] == []


def test_misspelled_api_call_gets_a_suggestion(files, capsys):
    code, _, err = run_cli([files("p.py", "put_first_on_secnd('red block', 'blue bowl')\n")], capsys)
    assert code == 1 and "E030" in err and "did you mean 'put_first_on_second'?" in err


def test_several_errors_in_one_check(files, capsys):
    code, out, err = run_cli([files("p.py", "x = get_obj_pos(3)\nmove_to([0, 0], sped=1)\n"), "--json"], capsys)
    data = json.loads(out)
    assert code == 1
    assert [(d["code"], d["line"]) for d in data["diagnostics"]] == [("E100", 1), ("E102", 2)]


def test_undefined_functions_need_the_flag(files, capsys):
    path = files("p.py", "make_line(get_obj_names())\n")
    code, _, err = run_cli([path], capsys)
    assert code == 1 and "E030" in err and "undefined function 'make_line'" in err
    code, _, _ = run_cli([path, "--allow-undefined"], capsys)
    assert code == 0


def test_scene_and_limits_are_loaded(files, capsys):
    scene = files("s.yaml", "objects:\n  - {name: red block, position: [0.1, -0.5]}\n")
    limits = files("l.yaml", "max_speed: 0.2\n")
    result = check_policy(files("p.py", GOOD), scene_path=scene, limits_path=limits)
    assert result.scene.names() == ["red block"] and result.spec.max_speed == 0.2
    code, _, _ = run_cli([files("q.py", GOOD), "--scene", scene, "--limits", limits, "--any-scene"], capsys)
    assert code == 0


@pytest.mark.parametrize("case", ["missing_policy", "missing_scene", "malformed_scene", "bad_limits",
                                  "scene_is_a_directory", "policy_not_utf8"])
def test_input_errors_exit_2_with_one_line(files, capsys, case):
    policy = files("p.py", GOOD)
    args = {
        "missing_policy": [str(Path(policy).parent / "nope.py")],
        "missing_scene": [policy, "--scene", str(Path(policy).parent / "nope.yaml")],
        "malformed_scene": [policy, "--scene", files("s.yaml", "objects: [\n  {name: a\n")],
        "bad_limits": [policy, "--limits", files("l.yaml", "max_speed: fast\n")],
        "scene_is_a_directory": [policy, "--scene", str(Path(policy).parent)],
        "policy_not_utf8": [_write_bytes(Path(policy).parent / "latin1.py", b"say('caf\xe9')\n")],
    }[case]
    code, out, err = run_cli(args, capsys)
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert err.startswith("error[E2")


def test_check_is_recorded_in_the_audit_store(files, capsys, private_audit_store):
    from capc.audit.store import open_store

    run_cli([files("p.py", BAD)], capsys)
    run_cli([files("q.py", GOOD)], capsys)
    with open_store(str(private_audit_store)) as store:
        records = [store.get(i) for i in (1, 2)]
    assert [r["kind"] for r in records] == ["check", "check"]
    assert [r["verdict"] for r in records] == ["rejected", "accepted"]
    assert records[0]["source"] == BAD


def _write_bytes(path: Path, data: bytes) -> str:
    path.write_bytes(data)
    return str(path)


def test_unwritable_parser_cache_still_checks(files, tmp_path):
    not_a_dir = tmp_path / "cache-is-a-file"
    not_a_dir.write_text("")
    proc = _subprocess([files("p.py", GOOD)], XDG_CACHE_HOME=str(not_a_dir))
    assert proc.returncode == 0, proc.stderr


def _subprocess(args, **env_changes):
    env = dict(os.environ, PYTHONPATH=str(ROOT), **env_changes)
    return subprocess.run([sys.executable, "-m", "capc.cli", "check", *args], capture_output=True,
                          text=True, env=env, cwd=ROOT, timeout=60)


def test_cli_process_missing_file_and_malformed_scene(files):
    proc = _subprocess([files("p.py", GOOD) + ".missing"])
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    proc = _subprocess([files("p.py", GOOD), "--scene", files("s.yaml", "objects: [\n")])
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "malformed scene file" in proc.stderr


def test_cli_process_bad_program(files):
    proc = _subprocess([files("p.py", "import os\n")])
    assert proc.returncode == 1
    assert "error[E010]: import is not allowed" in proc.stderr
    assert "Traceback" not in proc.stderr


EXAMPLES = sorted((ROOT / "examples").glob("*.py"))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_examples_check_with_their_scene(path: Path, capsys):
    scene = path.with_suffix(".scene.yaml")
    if not scene.exists():
        scene = path.with_suffix(".yaml")
    assert scene.exists(), f"{path.name} has no scene file"
    code, out, err = run_cli([str(path), "--scene", str(scene)], capsys)
    assert code in (0, 3), err  # 3: guarded, once the verifier runs inside check


def test_at_least_a_dozen_examples():
    assert len(EXAMPLES) >= 12
