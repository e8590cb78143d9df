"""The audit store: records round-trip, queries, stats, integrity, safe recording."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from audit_samples import accepted_record, guarded_compile_record, rejected_record
from capc.compiler.scene import parse_scene
from capc.diagnostics import CompileError, Diagnostic, InputError, Span
from capc.audit import store as audit
from capc.audit.store import AuditStoreError, open_store, parse_since, record_safely
from capc.safety.spec import default_spec

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def store(tmp_path):
    with open_store(tmp_path / "audit.db") as s:
        yield s


def test_record_round_trips_with_every_part(store):
    rid = store.add(rejected_record())
    rec = store.get(rid)
    assert rec["intact"] and rec["kind"] == "check" and rec["verdict"] == "rejected"
    assert rec["source"].startswith("# move the red block")
    assert rec["scene"]["objects"][0]["name"] == "red block"
    assert rec["spec"]["keep_out"][1]["cylinder"]["radius"] == 0.04
    assert [o["verdict"] for o in rec["obligations"]] == ["proved", "violated"]
    violated = rec["obligations"][1]
    assert violated["role"] == "lower to place"   # the verifier's "step" is kept as the role
    assert violated["span"]["line"] == 3 and violated["counterexample"]["target"] == [0.62, -0.45, 0.02]
    assert violated["extra"] == {"code": "E301", "seconds": 0.004}    # the verifier's other fields
    assert rec["diagnostics"][0]["code"] == "E301"
    assert rec["timings"]["verify"] == 0.041
    assert rec["capc_version"] and rec["time"].endswith("Z")


def test_attempts_keep_requests_replies_and_repair_links(store):
    rec = store.get(store.add(guarded_compile_record()))
    assert rec["provider"] == "replay" and rec["model"] == "cassette" and rec["params"] == {"temperature": 0}
    first, second = rec["attempts"]
    assert first["parent"] is None and second["parent"] == 0
    assert first["reply"].startswith("move_to(parse_position")
    assert second["request"]["messages"][0]["content"].startswith("error[E301]")
    assert second["extra"] == {"exchanges": [{"request": "def make_circle", "reply": "def make_circle(): ..."}]}
    child = store.add(accepted_record(parent_id=rec["id"]))
    assert store.get(child)["parent_id"] == rec["id"]


def test_objects_commands_hold_are_normalised(store):
    scene = parse_scene('{"objects": [{"name": "red block", "position": [0.1, -0.5]}]}')
    diag = Diagnostic("E301", "out of the workspace", Span("p.py", 2, 1, 2, 9), "safety",
                      counterexample={"target": np.array([0.5, -0.5, 0.1]), "excess": np.float64(0.2)})

    class Report:          # the shape of the verifier's VerificationReport
        verdict = "rejected"
        def to_json(self):
            return {"verdict": "rejected", "obligations": [{"id": "2", "verdict": "violated",
                    "span": Span("p.py", 2, 1, 2, 9), "property": "workspace"}],
                    "timings": {"verify": 0.01}, "guards": []}
        def diagnostics(self):
            return [diag]

    class Outcome:
        def to_json(self):
            return {"status": "stopped_by_monitor", "steps": 12,
                    "monitor_events": [{"limit": "max_speed", "message": "speed 0.3 > 0.25"}]}

    rid = store.add({"kind": "run", "scene": scene, "spec": default_spec(), "report": Report(),
                     "outcome": Outcome(), "source": "x = 1\nmove_to([0.5, -0.5])\n",
                     "weird": {1, 2}, "nan": float("nan")})
    rec = store.get(rid)
    assert rec["intact"]
    assert rec["scene"]["objects"][0]["position"] == [0.1, -0.5, 0.02]
    assert rec["spec"]["max_speed"] == 0.25
    assert rec["verdict"] == "rejected" and rec["obligations"][0]["span"]["line"] == 2
    assert rec["diagnostics"][0]["counterexample"]["target"] == [0.5, -0.5, 0.1]
    assert rec["run_status"] == "stopped_by_monitor" and rec["monitor_events"][0]["limit"] == "max_speed"
    assert rec["extra"] == {"weird": [1, 2], "nan": "nan",
                            "verification": {"guards": [], "timings": {"verify": 0.01}}}


def test_error_record_from_a_compile_error(store):
    err = CompileError("E012", "import is not part of the policy language", Span("p.py", 1, 1, 1, 7))
    rec = store.get(store.add({"kind": "check", "source": "import os\n", "error": err}))
    assert rec["verdict"] == "rejected" and rec["diagnostics"][0]["code"] == "E012"
    rec = store.get(store.add({"kind": "check", "error": InputError("scene.yaml: no such file")}))
    assert rec["verdict"] == "error"


def test_verdict_inferred_from_obligations(store):
    rec = guarded_compile_record()
    del rec["verdict"]
    assert store.get(store.add(rec))["verdict"] == "guarded"


def test_query_filters(store):
    ids = {"rej": store.add(rejected_record(time="2026-01-01T10:00:00.000000Z")),
           "acc": store.add(accepted_record(time="2026-02-01T10:00:00.000000Z")),
           "grd": store.add(guarded_compile_record())}
    assert [r["id"] for r in store.query()] == [ids["grd"], ids["acc"], ids["rej"]]
    assert [r["id"] for r in store.query(verdict="rejected")] == [ids["rej"]]
    assert [r["id"] for r in store.query(since="2026-01-15")] == [ids["grd"], ids["acc"]]
    assert [r["id"] for r in store.query(grep="50 CM")] == [ids["rej"]]           # instruction
    assert [r["id"] for r in store.query(grep="parse_position")] == [ids["grd"]]  # an attempt's reply
    assert [r["id"] for r in store.query(grep="100%")] == []                      # LIKE wildcards escaped
    assert len(store.query(limit=2)) == 2
    assert store.query(verdict="rejected")[0]["reason"].startswith("E301:")
    assert store.query(verdict="rejected")[0]["violations"] == 1


def test_parse_since_forms():
    import datetime as dt
    now = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.timezone.utc)
    assert parse_since("2026-11-24", now=now) == "2026-11-24T00:00:00.000000Z"
    assert parse_since("2026-11-24T10:30", now=now) == "2026-11-24T10:30:00.000000Z"
    assert parse_since("2h", now=now) == "2026-11-25T10:00:00.000000Z"
    assert parse_since("yesterday", now=now) == "2026-11-24T00:00:00.000000Z"
    with pytest.raises(InputError, match="cannot read --since"):
        parse_since("last tuesday", now=now)
    with pytest.raises(InputError, match="before the year 1"):
        parse_since("99999999999d", now=now)


def test_stats_and_integrity(store):
    store.add(rejected_record())
    store.add(accepted_record())
    store.add(accepted_record(run={"status": "stopped_by_monitor"}))
    stats = store.stats()
    assert stats["records"] == 3 and stats["schema_version"] == audit.SCHEMA_VERSION
    assert stats["by_verdict"] == {"accepted": 2, "rejected": 1}
    assert stats["violations_by_property"] == {"workspace": 1}
    assert stats["top_codes"] == {"E301": 1} and stats["monitor_stops"] == 1
    assert store.check_integrity() == {"sqlite": "ok", "records": 3, "broken": [], "ok": True}


def test_tampering_is_detected(store, tmp_path):
    rid = store.add(rejected_record())
    db = sqlite3.connect(tmp_path / "audit.db")
    db.execute("UPDATE records SET source = 'say(1)' WHERE id = ?", (rid,))
    db.commit()
    db.close()
    assert store.get(rid)["intact"] is False
    assert store.check_integrity()["broken"] == [rid]


def test_store_is_wal_and_versioned(store):
    assert store._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.schema_version == audit.SCHEMA_VERSION == 3


def test_newer_schema_is_refused_clearly(tmp_path):
    path = tmp_path / "future.db"
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version = 9")
    db.close()
    with pytest.raises(AuditStoreError, match="newer than this capc"):
        open_store(path)


def test_a_file_that_is_not_sqlite_is_refused_clearly(tmp_path):
    path = tmp_path / "junk.db"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(AuditStoreError, match="not a readable SQLite database"):
        open_store(path)


def test_default_path_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.delenv("CAPC_AUDIT_DB", raising=False)
    monkeypatch.delenv("CAPC_HOME", raising=False)
    monkeypatch.delenv("XDG_STATE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert audit.resolve_path() == tmp_path / ".local/state/capc/audit.db"
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    assert audit.resolve_path() == tmp_path / "state/capc/audit.db"
    monkeypatch.setenv("CAPC_HOME", str(tmp_path / "home"))
    assert audit.resolve_path() == tmp_path / "home/audit.db"
    monkeypatch.setenv("CAPC_AUDIT_DB", str(tmp_path / "x.db"))
    assert audit.resolve_path() == tmp_path / "x.db"
    assert audit.resolve_path(tmp_path / "y.db") == tmp_path / "y.db"


def test_record_safely_writes_and_returns_the_id(tmp_path):
    path = tmp_path / "a.db"
    rid = record_safely("run", audit_db=path, **rejected_record())   # the dict's own kind loses
    with open_store(path) as s:
        assert s.get(rid)["kind"] == "run" and s.get(rid)["intact"]
    assert record_safely(audit_db=path, **accepted_record()) == rid + 1


def test_record_safely_never_raises_and_reports_once(tmp_path):
    # A store under a regular file cannot be created: two failures, one line on stderr.
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code = ("import sys; from capc.audit.store import record_safely\n"
            f"a = record_safely('check', audit_db={str(blocker / 'a.db')!r}, source='x')\n"
            f"b = record_safely('run', audit_db={str(blocker / 'b.db')!r}, source=object())\n"
            "print(a, b)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                          timeout=60)
    assert proc.returncode == 0 and proc.stdout.strip() == "None None"
    lines = [l for l in proc.stderr.splitlines() if l.strip()]
    assert len(lines) == 1 and "audit record not written" in lines[0] and "Traceback" not in proc.stderr


def test_record_safely_does_not_wait_long_for_a_locked_store(tmp_path, capsys, monkeypatch):
    path = tmp_path / "locked.db"
    open_store(path).close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")          # another process holds the write lock
    waits = []   # how long each connection record_safely opens may wait for the lock
    connect = sqlite3.connect

    def spy(*args, **kwargs):
        waits.append(kwargs.get("timeout"))
        return connect(*args, **kwargs)

    monkeypatch.setattr(sqlite3, "connect", spy)
    try:
        audit._failure_reported = False
        assert record_safely("check", audit_db=path, source="x") is None
    finally:
        monkeypatch.undo()
        holder.execute("ROLLBACK")
        holder.close()
    assert "audit record not written" in capsys.readouterr().err
    assert waits == [audit.SAFE_BUSY_SECONDS] and audit.SAFE_BUSY_SECONDS <= 2.0


def test_recording_can_be_switched_off(monkeypatch, tmp_path):
    monkeypatch.setenv("CAPC_AUDIT_DB", "off")
    monkeypatch.setenv("CAPC_HOME", str(tmp_path))
    assert record_safely("check", source="x") is None
    assert not (tmp_path / "audit.db").exists()


def test_ir_hash_ignores_layout():
    from dataclasses import dataclass

    @dataclass(frozen=True)
    class Node:
        value: int
        span: Span

    a = Node(1, Span("a.py", 1, 1, 1, 2))
    b = Node(1, Span("b.py", 7, 3, 7, 4))
    assert audit.ir_hash(a) == audit.ir_hash(b) != audit.ir_hash(Node(2, a.span))


from hypothesis import HealthCheck, given, settings, strategies as st

_json = st.recursive(
    st.none() | st.booleans() | st.integers(-2**53, 2**53) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(source=st.text(max_size=200), instruction=st.text(max_size=60), payload=_json,
       cex=st.dictionaries(st.sampled_from(["target", "limit", "excess", "variables", "zz"]), _json, max_size=4),
       verdict=st.sampled_from(["accepted", "guarded", "rejected", None]))
def test_any_record_round_trips_intact(store, source, instruction, payload, cex, verdict):
    rid = store.add({"kind": "check", "source": source, "instruction": instruction, "verdict": verdict,
                     "params": payload, "obligations": [{"verdict": "violated", "counterexample": cex}],
                     "custom": payload})
    rec = store.get(rid)
    assert rec["intact"]
    assert rec["source"] == source and rec["instruction"] == instruction and rec["params"] == payload
    assert rec["obligations"][0]["counterexample"] == cex
    assert rec["extra"] == {"custom": payload}
    assert rid in [r["id"] for r in store.query(grep=instruction[:10])]
