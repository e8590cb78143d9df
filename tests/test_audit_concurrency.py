"""Issue 6 acceptance: concurrent writers, a writer killed mid-write, the v1 store migrated."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from capc.audit.store import SCHEMA_VERSION, open_store

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "audit_v1.db"

WRITER = """
import os, sys, time
sys.path.insert(0, {tests!r})
from audit_samples import rejected_record
from capc.audit.store import open_store
writer, count, go = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
store = open_store(sys.argv[4])
while not os.path.exists(go):          # start together
    time.sleep(0.001)
for seq in range(count):
    store.add(rejected_record(instruction=f"writer {{writer}} record {{seq}}",
                              extra={{"writer": writer, "seq": seq}}))
store.close()
"""

LOOPING_WRITER = """
import sys
from capc.audit.store import open_store
store = open_store(sys.argv[1])
big = "say('padding')\\n" * 20000      # ~300 KB per record: the kill lands inside a write
seq = 0
while True:
    rid = store.add({{"kind": "check", "source": big + f"# {{seq}}\\n", "verdict": "accepted",
                     "extra": {{"seq": seq}}}})
    print(rid, seq, flush=True)
    seq += 1
"""


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def test_four_processes_writing_250_records_each_leave_1000_intact(tmp_path):
    db, go = tmp_path / "audit.db", tmp_path / "go"
    code = WRITER.format(tests=str(ROOT / "tests"))
    procs = [subprocess.Popen([sys.executable, "-c", code, str(w), "250", str(go), str(db)],
                              cwd=ROOT, env=_env(), stderr=subprocess.PIPE, text=True)
             for w in range(4)]
    time.sleep(0.5)   # let all four import and open the (new) store, racing its creation
    go.write_text("go")
    for p in procs:
        _, err = p.communicate(timeout=240)
        assert p.returncode == 0, err
    with open_store(db) as store:
        assert store.count() == 1000
        integrity = store.check_integrity()
        assert integrity == {"sqlite": "ok", "records": 1000, "broken": [], "ok": True}
        seen = sorted((r["extra"]["writer"], r["extra"]["seq"]) for r in store.iter_records())
        assert seen == [(w, s) for w in range(4) for s in range(250)]
        assert all(len(r["obligations"]) == 2 for r in store.iter_records())


def test_a_writer_killed_mid_write_leaves_earlier_records_intact(tmp_path):
    db = tmp_path / "audit.db"
    committed: list[tuple[int, int]] = []
    for round_, wanted in enumerate((3, 7, 12)):
        proc = subprocess.Popen([sys.executable, "-c", LOOPING_WRITER.format(), str(db)], cwd=ROOT,
                                env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(wanted):
            line = proc.stdout.readline()
            assert line, proc.stderr.read()
            rid, seq = map(int, line.split())
            committed.append((rid, seq))
        time.sleep(0.002 * round_)   # kill at slightly different points of the next write
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        assert proc.returncode == -signal.SIGKILL
        with open_store(db) as store:                   # readable right after the kill
            integrity = store.check_integrity()
            assert integrity["sqlite"] == "ok" and integrity["broken"] == []
            for rid, seq in committed:
                rec = store.get(rid)
                assert rec is not None and rec["intact"] and rec["extra"]["seq"] == seq
            # at most the one write in flight may have landed beyond what was reported
            assert len(committed) <= store.count() <= len(committed) + round_ + 1
    with open_store(db) as store:                        # and writable again
        assert store.add({"kind": "check"}) > committed[-1][0]


def test_the_v1_fixture_is_migrated_on_open_with_records_preserved(tmp_path):
    db = tmp_path / "old.db"
    shutil.copy(FIXTURE, db)
    raw = sqlite3.connect(db)
    assert raw.execute("PRAGMA user_version").fetchone()[0] == 1
    old_ids = [r[0] for r in raw.execute("SELECT id FROM records ORDER BY id")]
    raw.close()
    assert old_ids == [1, 2, 4, 5]

    with open_store(db) as store:
        assert store.migrated_from == 1 and store.schema_version == SCHEMA_VERSION == 3
        assert [r["id"] for r in store.iter_records()] == old_ids       # ids kept, gap and all
        assert store.check_integrity()["ok"]
        first = store.get(1)
        assert first["verdict"] == "rejected" and first["capc_version"] == "0.0.3"
        assert first["time"] == "2025-06-01T09:00:00.000000Z"
        assert "target[0] + 0.5" in first["source"]
        assert first["scene"]["objects"][0]["name"] == "red block"
        assert first["spec"]["max_speed"] == 0.25                   # v1 called the spec "limits"
        ob = first["obligations"][0]
        assert ob["verdict"] == "violated" and ob["span"] == {"file": "far_right.py", "line": 3, "col": 1}
        assert ob["counterexample"]["target"] == [0.59, -0.5, 0.1]
        second = store.get(2)
        assert (second["provider"], second["model"]) == ("openai", "gpt-4o-mini")   # from v1's "llm"
        assert second["instruction"] == "put the red block in the blue bowl"
        assert store.get(5)["run_status"] == "completed"
        new = store.add({"kind": "check"})
        assert new == 6                                    # AUTOINCREMENT continues after the old ids
    with open_store(db) as store:                          # a second open does not migrate again
        assert store.migrated_from is None and store.count() == 5
    raw = sqlite3.connect(db)
    assert raw.execute("SELECT value FROM meta WHERE key = 'migrated_from'").fetchone()[0].startswith("v1 at")
    raw.close()


def test_two_processes_opening_the_v1_store_at_once_migrate_it_once(tmp_path):
    db = tmp_path / "old.db"
    shutil.copy(FIXTURE, db)
    code = ("import sys\nfrom capc.audit.store import open_store\n"
            "s = open_store(sys.argv[1]); print(s.migrated_from, s.count())")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(db)], cwd=ROOT, env=_env(),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(3)]
    outs = [p.communicate(timeout=60) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    froms = sorted(out.split()[0] for out, _ in outs)
    assert froms == ["1", "None", "None"] and all(out.split()[1] == "4" for out, _ in outs)
