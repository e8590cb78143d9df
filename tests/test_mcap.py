"""Runs as MCAP (capc.audit.mcap): `capc run --record-mcap` and `capc audit export RUN --mcap`
read back with the `mcap` reader: channels, schemas, message counts, timestamps, and the
same file from the run and from its audit record."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from mcap.reader import make_reader

from capc.cli import main

ROOT = Path(__file__).resolve().parent.parent
STACK = ROOT / "examples" / "stack_all_blocks.py"
# past the verifier's unrolling bound the moves are guarded; the 31st leaves the workspace
WALKS_OUT = "x = 0.0\nk = 0\nwhile k < 45:\n    k = k + 1\n    x = x + 0.01\n    move_to([x, -0.45, 0.12])\n"
SCHEMAS = {"/tf": "foxglove.FrameTransform", "/tool/commanded": "foxglove.PoseInFrame",
           "/tool/measured": "foxglove.PoseInFrame", "/scene": "foxglove.SceneUpdate",
           "/log": "foxglove.Log", "/policy": "capc.Policy"}


@pytest.fixture(autouse=True)
def private_audit_store(tmp_path, monkeypatch):
    monkeypatch.setenv("CAPC_AUDIT_DB", str(tmp_path / "audit.db"))


def read(path: Path) -> tuple[dict, dict[str, list[tuple[int, dict]]]]:
    """(summary facts, topic -> [(log time, message)]) of an MCAP file."""
    with open(path, "rb") as f:
        reader = make_reader(f)
        summary = reader.get_summary()
        channels = {c.topic: (summary.schemas[c.schema_id], c) for c in summary.channels.values()}
        facts = {"schemas": {t: s.name for t, (s, _) in channels.items()},
                 "encodings": {(s.encoding, c.message_encoding) for s, c in channels.values()},
                 "counts": {c.topic: summary.statistics.channel_message_counts[c.id] for c in summary.channels.values()},
                 "attachments": [a.name for a in reader.iter_attachments()]}
        messages: dict[str, list[tuple[int, dict]]] = {t: [] for t in channels}
        for _schema, channel, message in reader.iter_messages(log_time_order=False):
            messages[channel.topic].append((message.log_time, json.loads(message.data)))
    return facts, messages


def run_json(capsys, argv: list[str]) -> tuple[int, dict]:
    code = main(argv + ["--json"])
    return code, json.loads(capsys.readouterr().out)


def test_kinematic_run_as_mcap(tmp_path, capsys):
    out = tmp_path / "run.mcap"
    code, data = run_json(capsys, ["run", str(STACK), "--record-mcap", str(out)])
    assert code == 0 and data["mcap"] == str(out)
    run = data["run"]
    facts, messages = read(out)
    assert facts["schemas"] == SCHEMAS
    assert facts["encodings"] == {("jsonschema", "json")}
    assert facts["attachments"] == ["stack_all_blocks.py"]
    ticks = run["setpoints"]
    assert ticks > 1000
    grips = len(run["gripper_events"])
    assert facts["counts"] == {"/tf": ticks + 1, "/tool/commanded": ticks, "/tool/measured": ticks,
                               "/scene": grips + 2, "/log": grips + 1, "/policy": 1}
    for topic, items in messages.items():   # written in time order, each topic too
        times = [t for t, _ in items]
        assert times == sorted(times), topic
        for t, message in items:   # each message's own stamp is its log time
            if "timestamp" in message:
                assert message["timestamp"]["sec"] * 10**9 + message["timestamp"]["nsec"] == t
    # the run's robot time: first to last message spans the simulated time, set-points a tick apart
    everything = sorted(t for items in messages.values() for t, _ in items)
    assert abs((everything[-1] - everything[0]) / 1e9 - run["sim_time"]) < 1e-6
    commanded = messages["/tool/commanded"]
    gaps = {round((b[0] - a[0]) / 1e9, 6) for a, b in zip(commanded, commanded[1:])}
    assert round(1 / 240, 6) in gaps and min(gaps) >= round(1 / 240, 6) - 1e-6
    # kinematic: the measured tool is the set-point
    assert [m["pose"] for _, m in commanded] == [m["pose"] for _, m in messages["/tool/measured"]]
    # the last scene is where the run left the objects
    last = {e["id"]: e for e in messages["/scene"][-1][1]["entities"]}
    for name, (x, y, z) in run["final_positions"].items():
        shape = (last[name]["cubes"] or last[name]["cylinders"])[0]["pose"]["position"]
        assert abs(shape["x"] - x) < 1e-6 and abs(shape["y"] - y) < 1e-6
    policy = messages["/policy"][0][1]
    assert policy["source"] == STACK.read_text() and policy["verdict"] == "accepted"
    assert messages["/log"][-1][1]["message"].startswith("run completed")


def test_audit_export_writes_the_same_run(tmp_path, capsys):
    first = tmp_path / "run.mcap"
    assert main(["run", str(STACK), "--record-mcap", str(first)]) == 0
    capsys.readouterr()
    again = tmp_path / "again.mcap"
    assert main(["audit", "export", "last", "--mcap", str(again)]) == 0
    assert "exported run #1" in capsys.readouterr().out
    assert read(first) == read(again)


def test_monitor_stop_is_in_the_log(tmp_path, capsys):
    policy = tmp_path / "guarded.py"
    policy.write_text(WALKS_OUT)
    out = tmp_path / "stopped.mcap"
    code, data = run_json(capsys, ["run", str(policy), "--record-mcap", str(out)])
    assert code == 1 and data["verdict"] == "guarded"
    assert data["run"]["status"] == "stopped_by_monitor"
    facts, messages = read(out)
    assert facts["counts"]["/tool/commanded"] == data["run"]["setpoints"]
    logs = [m for _, m in messages["/log"]]
    stop = [m for m in logs if m["message"].startswith("E510")]
    assert len(stop) == 1 and stop[0]["level"] == 4 and stop[0]["line"] == 6
    assert logs[-1]["message"].startswith("run stopped by monitor")
    # the stop comes at the last set-point the monitor let through, before the run's end
    stop_time = next(t for t, m in messages["/log"] if m is stop[0])
    assert stop_time == messages["/tool/commanded"][-1][0]


def test_export_of_a_record_without_a_run_is_an_input_error(tmp_path, capsys):
    assert main(["check", str(STACK)]) == 0
    capsys.readouterr()
    assert main(["audit", "export", "last", "--mcap", str(tmp_path / "x.mcap")]) == 2   # no run yet
    assert main(["audit", "export", "1", "--mcap", str(tmp_path / "x.mcap")]) == 2
    err = capsys.readouterr().err
    assert "E295" in err and "holds no run timeline" in err
    assert not (tmp_path / "x.mcap").exists()


def test_sarif_spelling_of_the_export(tmp_path, capsys):
    assert main(["check", str(STACK)]) == 0
    by_flag, by_format = tmp_path / "a.sarif", tmp_path / "b.json"
    assert main(["audit", "export", "--sarif", str(by_flag)]) == 0
    assert main(["audit", "export", "--format", "sarif", "-o", str(by_format)]) == 0
    a, b = json.loads(by_flag.read_text()), json.loads(by_format.read_text())
    assert a["version"] == "2.1.0" and a["runs"][0]["properties"] == b["runs"][0]["properties"]
    assert main(["audit", "export", "--sarif", str(by_flag), "-o", str(by_format)]) == 2


@pytest.mark.slow
def test_sim_run_measures_the_tool(tmp_path, capsys):
    out = tmp_path / "sim.mcap"
    code, data = run_json(capsys, ["run", str(ROOT / "examples" / "put_block_in_bowl.py"), "--backend", "sim",
                                   "--record-mcap", str(out)])
    assert code == 0
    facts, messages = read(out)
    ticks = data["run"]["setpoints"]
    assert facts["counts"]["/tool/measured"] == facts["counts"]["/tool/commanded"] == ticks
    gaps = []
    for (t1, c), (t2, m) in zip(messages["/tool/commanded"], messages["/tool/measured"]):
        assert t1 == t2
        gaps.append(max(abs(c["pose"]["position"][k] - m["pose"]["position"][k]) for k in "xyz"))
    # PyBullet's arm follows its set-points closely but not exactly: this is a measurement
    assert 0 < max(gaps) < 0.01


def test_nothing_ran_nothing_written(tmp_path, capsys):
    policy = tmp_path / "far.py"
    policy.write_text("move_to([0.5, -0.5, 0.1])\n")
    out = tmp_path / "far.mcap"
    code, data = run_json(capsys, ["run", str(policy), "--record-mcap", str(out)])
    assert code == 1 and data["verdict"] == "rejected" and data["mcap"] is None and not out.exists()
    assert main(["run", str(policy), "--record-mcap", str(tmp_path / "no" / "x.mcap")]) == 2   # checked first
