"""`capc check --watch` (capc/watch.py): a scripted edit is checked again by the same process."""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCENE = str(ROOT / "tests" / "programs" / "verifier_scene.yaml")
SAFE = (ROOT / "tests" / "programs" / "safe" / "offset_right_of_block.py").read_text()
UNSAFE = (ROOT / "tests" / "programs" / "unsafe" / "offset_right_of_block.py").read_text()
MAX_POLLS = 600  # lines are waited for in bounded polls (a count, not a clock bound on capc)


def read_line(proc: subprocess.Popen, selector: selectors.BaseSelector) -> str:
    for _ in range(MAX_POLLS):
        if selector.select(timeout=0.5):
            return proc.stdout.readline()
        assert proc.poll() is None, proc.stderr.read()
    raise AssertionError("no line from capc check --watch")


@contextlib.contextmanager
def watching(args: list[str], tmp_path: Path):
    """A `capc check ... --watch` process and a selector on its stdout; killed if still running."""
    env = dict(os.environ, CAPC_AUDIT_DB=str(tmp_path / "audit.db"), PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "capc.cli", "check", *args, "--watch"], env=env,
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    selector = selectors.DefaultSelector()
    selector.register(proc.stdout, selectors.EVENT_READ)
    try:
        yield proc, selector
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        selector.close()
        proc.stdout.close()
        proc.stderr.close()


def test_an_edit_is_checked_again_in_the_same_process(tmp_path):
    policy = tmp_path / "policy.py"
    policy.write_text(SAFE)
    with watching([str(policy), "--scene", SCENE, "--watch-count", "3", "--json"], tmp_path) as (proc, selector):
        first = json.loads(read_line(proc, selector))
        assert first["verdict"] == "accepted"
        policy.write_text(UNSAFE + "\n")            # the user saves an unsafe version
        second = json.loads(read_line(proc, selector))
        assert second["verdict"] == "rejected" and second["diagnostics"][0]["code"] == "E301"
        policy.write_text("x = 1 2\n")              # and then one that does not parse
        third = json.loads(read_line(proc, selector))
        assert third["verdict"] == "rejected" and third["diagnostics"][0]["code"] == "E001"
        assert proc.wait(timeout=120) == 1          # --watch-count 3: the last verdict's exit code
    records = subprocess.run([sys.executable, "-m", "capc.cli", "audit", "list", "--json"],
                             env=dict(os.environ, CAPC_AUDIT_DB=str(tmp_path / "audit.db"), PYTHONPATH=str(ROOT)),
                             capture_output=True, text=True, cwd=tmp_path)
    assert records.returncode == 0, records.stderr
    listed = json.loads(records.stdout)["records"]             # each check recorded, as a `capc check` is
    assert sorted((r["kind"], r["verdict"]) for r in listed) == \
        [("check", "accepted"), ("check", "rejected"), ("check", "rejected")]


def test_text_mode_says_it_is_watching_and_ctrl_c_stops(tmp_path):
    policy = tmp_path / "policy.py"
    policy.write_text(SAFE)
    with watching([str(policy), "--scene", SCENE], tmp_path) as (proc, selector):
        assert "accepted" in read_line(proc, selector)
        assert proc.stderr.readline().startswith("-- check 1 done; watching ")
        proc.send_signal(2)                          # Ctrl-C
        assert proc.wait(timeout=120) == 130
        err = proc.stderr.read()
        assert err == "interrupted\n"                 # no traceback
