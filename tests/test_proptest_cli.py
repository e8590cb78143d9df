"""`capc proptest` and the pytest plugin, end to end on the kinematic backend."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from capc.cli import main
from capc.compiler.scene import load_scene

ROOT = Path(__file__).resolve().parents[1]
EDGE = ROOT / "examples" / "edge_sensitive.py"
EDGE_SCENE = ROOT / "examples" / "edge_sensitive.yaml"


# Over each block at 0.25 m: 0.1 m over a block at the near edge of the spawn area (y = -0.25,
# x = 0) is out of the arm's reach (TabletopCell.reach_miss, E526).
SAFE_POLICY = """\
for name in get_obj_names():
    if 'block' in name:
        pos = get_obj_pos(name)
        move_to([pos[0], pos[1], 0.25], speed=0.2)
"""


@pytest.fixture(autouse=True)
def no_audit(monkeypatch):
    monkeypatch.setenv("CAPC_AUDIT_DB", "off")


def test_finds_and_shrinks_the_edge_failure_and_prints_a_reproduction(tmp_path, capsys):
    out = tmp_path / "failure.yaml"
    code = main(["proptest", str(EDGE), "--scene", str(EDGE_SCENE), "--examples", "100",
                 "--seed", "1", "--out", str(out)])
    text = capsys.readouterr().out
    assert code == 1, text
    assert "FAILED: monitor failure" in text
    assert f"capc run {EDGE} --scene {out} --backend kinematic" in text
    world = load_scene(str(out))
    # shrunk: only the block that matters is left, and it stands near the right edge, where
    # the approach point x + 0.06 leaves the workspace (x <= 0.3)
    assert len(world.objects) == 1 and world.objects[0].kind == "block"
    assert world.objects[0].position[0] + 0.06 > 0.3 - 1e-3
    # and the written world really reproduces the stop
    from capc.testing import PolicyUnderTest

    policy = PolicyUnderTest.from_file(str(EDGE))
    assert policy.failure(policy.run(world)).kind == "monitor"


def test_json_report(tmp_path, capsys):
    out = tmp_path / "f.yaml"
    code = main(["proptest", str(EDGE), "--examples", "100", "--seed", "3", "--json", "--out", str(out)])
    report = json.loads(capsys.readouterr().out)
    assert code == 1 and report["found"] is True
    assert report["failure"]["kind"] == "monitor"
    assert report["scene_file"] == str(out) and report["reproduce"].startswith("capc run ")
    assert report["world"]["objects"]


def test_safe_policy_passes(tmp_path, capsys):
    policy = tmp_path / "safe.py"
    policy.write_text(SAFE_POLICY)
    code = main(["proptest", str(policy), "--examples", "25", "--scene", str(EDGE_SCENE)])
    text = capsys.readouterr().out
    assert code == 0, text
    assert "ok: no failure found" in text


def test_task_failures_are_found(tmp_path, capsys):
    """A declared task that this policy only achieves in some worlds."""
    policy = tmp_path / "task.py"
    policy.write_text("# capc-task: block_in_bowl(\"red block\", \"blue bowl\")\n"
                      "if get_obj_pos('red block')[0] < 0.1:\n"
                      "    put_first_on_second('red block', 'blue bowl')\n")
    code = main(["proptest", str(policy), "--examples", "60", "--json", "--out", str(tmp_path / "t.yaml")])
    report = json.loads(capsys.readouterr().out)
    assert code == 1 and report["failure"]["kind"] == "task"
    red = next(o for o in report["world"]["objects"] if o["name"] == "red block")
    assert red["position"][0] >= 0.1


def test_input_errors_exit_2(tmp_path, capsys):
    assert main(["proptest", str(tmp_path / "missing.py")]) == 2
    bad = tmp_path / "bad.py"
    bad.write_text("import os\n")
    assert main(["proptest", str(bad)]) == 2
    assert main(["proptest", str(EDGE), "--scene", str(tmp_path / "nope.yaml")]) == 2
    with pytest.raises(SystemExit) as usage:  # argparse: a usage error, exit 2
        main(["proptest", str(EDGE), "--examples", "0"])
    assert usage.value.code == 2
    capsys.readouterr()


def test_pytest_plugin_fixture_runs_a_users_property(tmp_path):
    policy = tmp_path / "safe.py"
    policy.write_text(SAFE_POLICY)
    (tmp_path / "test_user.py").write_text(f"""
from hypothesis import given, settings
from capc.testing import scenes

@settings(max_examples=5, deadline=None, database=None, derandomize=True)
@given(scene=scenes(n_blocks=(1, 2), n_bowls=0))
def test_safe(capc_policy, scene):
    capc_policy({str(policy)!r}).check(scene)

@settings(max_examples=50, deadline=None, database=None, derandomize=True)
@given(scene=scenes(n_blocks=1, n_bowls=0, edge_bias=1.0))
def test_edge_fails(capc_policy, scene):
    capc_policy({str(EDGE)!r}).check(scene)
""")
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_user.py"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120,
                         env={**__import__("os").environ, "CAPC_AUDIT_DB": "off"})
    assert "1 failed, 1 passed" in run.stdout, run.stdout + run.stderr
    assert "PolicyFailed" in run.stdout and "monitor failure" in run.stdout


def test_near_scene_mode_finds_perception_sensitive_failures(tmp_path, capsys):
    """The scene is safe as perceived; within the tolerance (1 cm) of the block, the
    approach point x + 0.06 leaves the workspace."""
    scene = tmp_path / "near_edge.yaml"
    scene.write_text("objects:\n  - {name: red block, position: [0.236, -0.5]}\n")
    out = tmp_path / "near.yaml"
    code = main(["proptest", str(EDGE), "--scene", str(scene), "--near-scene", "--examples", "100",
                 "--json", "--out", str(out)])
    report = json.loads(capsys.readouterr().out)
    assert code == 1 and report["failure"]["kind"] == "monitor"
    (block,) = report["world"]["objects"]
    assert abs(block["position"][0] - 0.236) <= 0.01 + 1e-9  # within the tolerance of the scene
    assert report["reproduce"].startswith(f"capc run {EDGE} --scene {out}")
    # the example scene keeps its blocks far from the edge: no perception error takes a target
    # out of the workspace. (Under a camera error the push's fingers may brush the block: E525,
    # the predicted collision, a failure of another kind that this search may find.)
    code = main(["proptest", str(EDGE), "--scene", str(EDGE_SCENE), "--near-scene", "--examples", "40",
                 "--json", "--out", str(tmp_path / "example.yaml")])
    report = json.loads(capsys.readouterr().out)
    assert code == 0 or report["failure"]["kind"] != "monitor", report["failure"]
    assert main(["proptest", str(EDGE), "--near-scene"]) == 2  # needs --scene
    assert "--near-scene needs --scene" in capsys.readouterr().err


def _capc_in(cwd: Path, home: Path, *args: str) -> subprocess.CompletedProcess:
    import os

    env = {k: v for k, v in os.environ.items() if k != "HYPOTHESIS_STORAGE_DIRECTORY"}
    env.update(HOME=str(home), XDG_CACHE_HOME=str(home / "cache"), XDG_STATE_HOME=str(home / "state"),
               CAPC_AUDIT_DB=str(home / "audit.db"))
    return subprocess.run([sys.executable, "-m", "capc", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)


def test_proptest_leaves_the_current_directory_untouched_and_its_record_complete(tmp_path):
    cwd, home, out = tmp_path / "cwd", tmp_path / "home", tmp_path / "out"
    cwd.mkdir()
    found = _capc_in(cwd, home, "proptest", str(EDGE), "--scene", str(EDGE_SCENE), "--examples", "100", "--seed", "1",
                    "--out", str(out))
    assert found.returncode == 1, found.stderr
    assert list(cwd.iterdir()) == []                      # no scene file, no .hypothesis/
    assert [p.name for p in out.iterdir()] == ["proptest-edge_sensitive.yaml"]

    record = json.loads(_capc_in(cwd, home, "audit", "show", "1", "--json").stdout)
    assert record["kind"] == "proptest" and record["verdict"] == "failed"
    assert record["source"] == EDGE.read_text(encoding="utf-8") and record["ir_hash"]
    assert record["scene"]["objects"] and record["spec"]
    assert record["run_status"] == "stopped_by_monitor" and record["monitor_events"]
    (diagnostic,) = record["diagnostics"]
    assert diagnostic["code"] == "E510" and diagnostic["line"] == 8
    assert record["extra"]["proptest"]["reproduce"].startswith(f"capc run {EDGE} --scene {out}")

    shown = _capc_in(cwd, home, "audit", "show", "1").stdout
    assert "no policy source stored" not in shown and "verdict: FAILED" in shown
    assert "error[E510]" in shown and "property test: " in shown and "reproduce: capc run" in shown
    assert _capc_in(cwd, home, "audit", "export", "-o", str(tmp_path / "audit.html")).returncode == 0
    html = (tmp_path / "audit.html").read_text(encoding="utf-8")
    assert "nothing to report" not in html and "property test: " in html and "E510" in html
    assert list(cwd.iterdir()) == []


def test_default_out_is_a_folder_git_ignores():
    from capc.commands.proptest import DEFAULT_OUT

    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    ignored = subprocess.run(["git", "check-ignore", "-q", f"{DEFAULT_OUT}/proptest-x.yaml"], cwd=ROOT)
    assert ignored.returncode == 0, f"{DEFAULT_OUT}/ is not in .gitignore"


def test_an_out_that_cannot_be_written_is_refused_before_the_search(tmp_path, capsys):
    code = main(["proptest", str(EDGE), "--out", str(tmp_path / "no" / "such" / "dir")])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("error[E206]: cannot write the failing world") and "does not exist" in err
