"""`capc audit recheck` with the real front end and verifier (skipped until both are in the build)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from capc.cli import main
from capc.audit.store import ir_hash, open_store

ROOT = Path(__file__).resolve().parents[1]

needs_front_end = pytest.mark.skipif(importlib.util.find_spec("capc.compiler.frontend") is None,
                                     reason="capc.compiler.frontend is not in this build yet")
needs_verifier = pytest.mark.skipif(importlib.util.find_spec("capc.safety.verifier") is None,
                                    reason="capc.safety.verifier is not in this build yet")

SCENE = {"objects": [{"name": "red block", "position": [0.1, -0.5, 0.02]},
                     {"name": "blue bowl", "position": [-0.1, -0.6, 0.0]}]}


@needs_front_end
def test_ir_hash_of_real_programs_ignores_layout_and_comments():
    from capc.compiler.frontend import compile_source
    source = (ROOT / "examples" / "stack_all_blocks.py").read_text()
    relaid = "# a comment\n\n" + source.replace("    ", "        ")
    other = source.replace("i + 1", "i")
    assert ir_hash(compile_source(source, "a.py")) == ir_hash(compile_source(relaid, "b.py"))
    assert ir_hash(compile_source(source, "a.py")) != ir_hash(compile_source(other, "a.py"))


@needs_front_end
@needs_verifier
def test_recheck_lists_exactly_the_verdicts_that_changed(tmp_path, capsys):
    db = tmp_path / "audit.db"
    with open_store(db) as store:
        safe_but_stored_rejected = store.add({
            "kind": "check", "file": "safe.py", "scene": SCENE, "verdict": "rejected",
            "source": "put_first_on_second('red block', 'blue bowl')\n"})
        unsafe_stored_rejected = store.add({
            "kind": "check", "file": "unsafe.py", "scene": SCENE, "verdict": "rejected",
            "source": "move_to([0.5, -0.5, 0.1])\n"})
        broken_stored_accepted = store.add({
            "kind": "check", "file": "broken.py", "scene": SCENE, "verdict": "accepted",
            "source": "import os\n"})
        store.add({"kind": "run", "verdict": "accepted"})      # nothing to recheck
    code = main(["audit", "--audit-db", str(db), "recheck", "--all", "--json"])
    summary = json.loads(capsys.readouterr().out)
    assert code == 1
    changed = {r["id"]: r for r in summary["changed"]}
    assert set(changed) == {safe_but_stored_rejected, broken_stored_accepted}
    assert changed[safe_but_stored_rejected]["new"] == "accepted"
    assert changed[broken_stored_accepted]["new"] == "rejected"
    assert changed[broken_stored_accepted]["detail"].startswith("E0")
    results = {r["id"]: r for r in summary["results"]}
    assert results[unsafe_stored_rejected]["new"] == "rejected"
    assert summary["skipped"] == 1 and summary["checked"] == 3


@needs_front_end
@needs_verifier
def test_recheck_bench_small(tmp_path):
    """bench/audit_recheck.py at 60 programs (the full 500 is `make bench`)."""
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import audit_recheck as bench
    finally:
        sys.path.remove(str(ROOT / "bench"))
    result = bench.run(60, budget=30.0)
    assert result["ok"], result
    assert result["programs_verified"] == 60
    assert set(result["verdicts"]) <= {"accepted", "guarded", "rejected"}
    assert result["verdicts"].get("rejected", 0) > 0 and result["verdicts"].get("accepted", 0) > 0
