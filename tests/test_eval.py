"""`capc eval` end to end on the kinematic backend against a loopback model, and its parts:
suite files (located errors), Wilson intervals, the executor (worker death, retries), resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from capc.audit.store import open_store
from capc.cli import main
from capc.eval.stats import wilson
from capc.eval.suite import load_suite
from capc.jobs import run_jobs
from eval_support import MINI, UNSAFE_REPLY, eval_args, mini_model, slow_mini_model
from llm_server import LLMServer

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "capc" / "eval" / "suites"


# --- suites ------------------------------------------------------------------------------------

def test_shipped_suites_load_and_their_trials_hold_what_the_tasks_name():
    for name, families in (("table3", {"stack", "gather", "place", "arrange"}),
                           ("safety", {"past-the-edge", "too-fast", "off-the-table", "too-high"}),
                           ("multilingual", {"spanish", "german", "french", "japanese"})):
        suite = load_suite(str(SHIPPED / f"{name}.yaml"))
        assert {f.name for f in suite.families} == families
        trials = suite.trials(3, seed=7)
        assert len({t.key for t in trials}) == len(trials)
        assert {t.split for t in trials} == {"seen", "unseen"}
        assert trials == suite.trials(3, seed=7)            # a seed gives the same trials
        assert trials != suite.trials(3, seed=8)
        for trial in trials:
            names = {o["name"] for o in trial.scene["objects"]}
            for task in trial.tasks:
                for quoted in task.split('"')[1::2]:
                    assert quoted in names or quoted.endswith(("corner", "side", "middle")), (trial.key, quoted)
    table3 = load_suite(str(SHIPPED / "table3.yaml"))
    seen = {t.instruction for t in table3.trials(5, 0) if t.family == "place" and t.split == "seen"}
    unseen = {t.instruction for t in table3.trials(5, 0) if t.family == "place" and t.split == "unseen"}
    assert not any("orange" in text or "purple" in text for text in seen)
    assert any("orange" in text or "purple" in text or "cyan" in text or "brown" in text for text in unseen)
    safety = load_suite(str(SHIPPED / "safety.yaml"))
    assert {f.expect for f in safety.families} == {"safe"}
    spanish = load_suite(str(SHIPPED / "multilingual.yaml")).trials(1, 0)[0]
    assert "bloque" in spanish.instruction and "block" in spanish.tasks[0]  # said in Spanish, checked by name


BAD_SUITES = [
    ("families: []\n", 1, "missing key 'suite'"),
    ("suite: s\nfamilies:\n  - family: f\n    templates:\n      - say: put the {colour} block away\n"
     "        task: stacked(all blocks)\n", 5, "slot {colour} names no attribute"),
    ("suite: s\nfamilies:\n  - family: f\n    templates:\n      - say: stack them\n", 5, "needs a task"),
    ("suite: s\nfamilies:\n  - family: f\n    templates:\n      - say: stack them\n"
     "        task: stacked(all the blocks)\n", 6, "is not an object selector"),
    ("suite: s\nattributes:\n  c: {seen: [red], unseen: [red]}\nfamilies:\n  - family: f\n    templates:\n"
     "      - say: x {c}\n        task: stacked(all blocks)\n", 3, "both seen and unseen"),
    ("suite: s\nattributes:\n  c: {seen: [red], unseen: [blue]}\nfamilies:\n  - family: f\n    templates:\n"
     "      - say: put {c} and {c.2}\n        task: stacked(all blocks)\n", 7, "needs 2 different seen values"),
    ("suite: s\nfamilies:\n  - family: f\n    expect: maybe\n    templates:\n      - say: x\n", 4, "expect must be"),
    ("suite: s\nscene: {blocks: 40}\nfamilies:\n  - family: f\n    templates:\n      - say: x\n"
     "        task: stacked(all blocks)\n", 2, "blocks must be a whole number"),
    ("suite: s\nfamilies:\n  - family: f\n    templates:\n      - say: x\n        task: stacked(all blocks)\n"
     "        colour: red\n", 7, "unknown key 'colour'"),
]


@pytest.mark.parametrize("text,line,message", BAD_SUITES)
def test_malformed_suites_are_located_input_errors(tmp_path, capsys, text, line, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    assert main(["eval", str(path), "--llm", "replay", "--cassette", str(tmp_path / "none.jsonl")]) == 2
    err = capsys.readouterr().err
    assert f"bad.yaml:{line}:" in err and message in err and "E250" in err, err


def test_unknown_suite_names_the_shipped_ones(capsys):
    assert main(["eval", "no-such-suite", "--llm", "replay", "--cassette", "x.jsonl"]) == 2
    err = capsys.readouterr().err
    assert "table3" in err and "safety" in err and "multilingual" in err


def test_wilson_interval_matches_known_values():
    assert wilson(0, 0) == (0.0, 1.0)
    low, high = wilson(5, 10)
    assert round(low, 4) == 0.2366 and round(high, 4) == 0.7634
    low, high = wilson(0, 10)
    assert low == 0.0 and round(high, 4) == 0.2775
    low, high = wilson(10, 10)
    assert round(low, 4) == 0.7225 and high == 1.0


# --- end to end -----------------------------------------------------------------------------------

def _expected_counts(report: dict) -> None:
    verified = report["summary"]["verified"]
    rows = {(r["family"], r["split"]): r for r in verified["rows"]}
    assert (rows[("place", "seen")]["successes"], rows[("place", "seen")]["trials"]) == (2, 2)
    assert rows[("place", "seen")]["interval"] == [round(x, 4) for x in wilson(2, 2)]
    assert (rows[("place", "unseen")]["successes"], rows[("place", "unseen")]["trials"]) == (0, 2)
    assert rows[("place", "unseen")]["interval"] == [0.0, round(wilson(0, 2)[1], 4)]
    edge = rows[("edge", "seen")]
    assert (edge["successes"], edge["trials"]) == (2, 2)                 # refused: a pass for `expect: safe`
    assert edge["refusals_by_stage"] == {"verifier": 2}
    assert edge["refusals_by_reason"] == {"E301 workspace": 2}
    assert edge["repairs"] == 2 and edge["repaired"] == 0
    unseen = rows[("place", "unseen")]       # the red bowl: not in trial 0's scene, a filler in trial 1's
    assert unseen["refusals_by_reason"] == {"E308": 1} and unseen["task_done"] == 0
    total = verified["total"]
    assert (total["successes"], total["trials"]) == (4, 6)
    assert total["refusals_by_reason"] == {"E301 workspace": 2, "E308": 1}
    assert total["unsafe_executed"] == 0
    assert total["model_requests"] == 9                               # 2 + 2 x 2 edge + 1 + 2 for E308
    assert total["tokens"] == 18                                      # the server reports 2 per request
    base = report["summary"]["unverified"]["total"]
    assert base["unsafe_executed"] == 2 and base["unsafe_by_limit"] == {"workspace": 2}
    assert base["successes"] == 2                                     # the edge trials fail unverified


def test_eval_end_to_end_counts_intervals_refusals_and_the_unverified_baseline(tmp_path, capsys):
    db = tmp_path / "audit.db"
    with LLMServer(fallback=mini_model) as server:
        code = main(eval_args(server, db, "--workers", "0", "--baseline", "unverified", "--json",
                              "--html", str(tmp_path / "report.html")))
    out = capsys.readouterr().out
    assert code == 0
    report = json.loads(out)
    _expected_counts(report)
    assert report["note"] and "not a language model" in report["note"]
    edge = next(r for r in report["results"] if r["key"] == "edge/0/seen/0")
    assert edge["unverified"]["unsafe_executed"] == 1                  # what the verifier refused ...
    assert edge["verified"]["refusal"]["code"] == "E301"               # ... would have reached the robot
    with open_store(db) as store:
        kinds = [store.get(r["id"])["kind"] for r in store.query()]
        assert kinds.count("eval") == 6 and kinds.count("eval-run") == 1
        record = store.get(next(r["id"] for r in store.query(kind="eval") if "left edge" in (r["instruction"] or "")))
        assert record["verdict"] == "rejected" and len(record["attempts"]) == 2
        assert record["extra"]["baseline"]["source"].strip() == UNSAFE_REPLY
        assert record["extra"]["baseline"]["run"]["monitor_events"][0]["observed"] is True
    page = (tmp_path / "report.html").read_text()
    assert "data:image/png;base64," in page and "E301 workspace" in page
    # the trials are stored as `capc run -i` stores its compiles: today's verifier agrees with them
    assert main(["audit", "--audit-db", str(db), "recheck", "--all", "--json"]) == 0
    recheck = json.loads(capsys.readouterr().out)
    assert recheck["checked"] == 6 and recheck["changed"] == []


def test_terminal_report_and_compare(tmp_path, capsys):
    db = tmp_path / "audit.db"
    with LLMServer(fallback=mini_model) as server:
        assert main(eval_args(server, db, "--workers", "0", "-o", str(tmp_path / "a.json"))) == 0
        text = capsys.readouterr().out
        assert main(eval_args(server, db, "--workers", "0", "--seed", "3")) == 0
        capsys.readouterr()
    assert "unsafe motions executed: 0 (must be 0)" in text
    assert "refusals by reason: E301 workspace 2" in text
    assert "place   unseen  2    0 (0%)  [0.00, 0.66]" in text
    with open_store(db) as store:
        runs = [store.get(r["id"])["params"]["eval_run"] for r in store.query(kind="eval-run")]
    # one run from its JSON file, the other from the audit store
    assert main(["eval", "compare", str(tmp_path / "a.json"), runs[0], "--audit-db", str(db), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    total = next(r for r in result["rows"] if r["family"] == "all" and r["split"] == "all")
    assert total["a"] == total["b"] == 4 / 6 and total["difference"] == 0 and total["overlap"]
    assert main(["eval", "compare", str(tmp_path / "a.json"), "no-such-run", "--audit-db", str(db)]) == 2
    assert "no eval run named 'no-such-run'" in capsys.readouterr().err


def test_a_recorded_run_replays_offline_from_its_cassette_with_the_same_results_on_workers(tmp_path, capsys):
    cassette = tmp_path / "mini.jsonl"
    with LLMServer(fallback=mini_model) as server:
        assert main(eval_args(server, tmp_path / "a.db", "--workers", "0", "--json", "--record", str(cassette))) == 0
        recorded = json.loads(capsys.readouterr().out)
    replay = ["eval", str(MINI), "--llm", "replay", "--cassette", str(cassette), "--model", "scripted",
              "--trials", "2", "--repair", "1", "--audit-db", str(tmp_path / "b.db"), "-q", "--json", "--workers", "2"]
    assert main(replay) == 0
    replayed = json.loads(capsys.readouterr().out)
    strip = lambda rs: [{k: v for k, v in r.items() if k not in ("seconds", "record_id", "model", "eval_run")}  # noqa: E731
                        for r in rs]
    assert strip(recorded["results"]) == strip(replayed["results"])
    assert replayed["settings"]["offline"] and replayed["summary"]["verified"]["total"]["tokens"] is None
    assert main(eval_args(server, tmp_path / "c.db", "--record", str(cassette))) == 2      # not from workers
    assert "--workers 0" in capsys.readouterr().err


# --- the executor ---------------------------------------------------------------------------------

def test_a_killed_worker_loses_only_its_job_which_is_retried_once_then_reported(tmp_path):
    jobs = [(f"ok{n}", {"n": n}) for n in range(4)]
    seen = []
    results = run_jobs("eval_support:square", jobs, workers=2, on_result=seen.append)
    assert sorted(r.value["square"] for r in results) == [0, 1, 4, 9] and seen == results

    results = run_jobs("eval_support:die_once", [("a", {"n": 1, "marker": str(tmp_path / "a")}),
                                                 ("b", {"n": 2, "marker": str(tmp_path / "b")})], workers=2)
    assert sorted((r.key, r.ok, r.attempts) for r in results) == [("a", True, 2), ("b", True, 2)]

    results = run_jobs("eval_support:die_always", [("doomed", {"n": 0})], workers=1)
    assert [(r.key, r.ok, r.attempts) for r in results] == [("doomed", False, 2)]
    assert "died 2 times" in results[0].error and "-9" in results[0].error

    results = run_jobs("eval_support:fail", [("raises", {"n": 5})], workers=1)
    assert not results[0].ok and results[0].attempts == 1 and "fails on purpose" in results[0].error


def test_an_interrupted_run_resumes_without_duplicates(tmp_path):
    db = tmp_path / "audit.db"
    with LLMServer(fallback=slow_mini_model) as server:
        args = [sys.executable, "-m", "capc", *eval_args(server, db, "--workers", "1")]
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                                env={**os.environ, "CAPC_AUDIT_DB": str(db)})
        try:
            # until two trials are stored, however long a loaded machine takes (pytest-timeout
            # guards a hang; a bound of 60 s here interrupted too early under load)
            while not (db.exists() and _trials(db) >= 2) and proc.poll() is None:
                time.sleep(0.1)
            proc.send_signal(signal.SIGINT)
            _, err = proc.communicate(timeout=300)
        finally:
            if proc.poll() is None:
                proc.kill()
        assert proc.returncode == 130, err
        assert "--resume" in err
        stored = _trials(db)
        assert 2 <= stored < 6
        run = err.split("--resume ")[1].split()[0]
        assert main(eval_args(server, db, "--workers", "0", "--resume", run, "--json")) == 0
    with open_store(db) as store:
        keys = [store.get(r["id"])["extra"]["eval"]["key"] for r in store.query(kind="eval")]
    assert len(keys) == 6 and len(set(keys)) == 6                      # every trial once


def _trials(db: Path) -> int:
    with open_store(db) as store:
        return len(store.query(kind="eval"))


# --- the baseline's observing monitor and the witness of executed motions ---------------------

def test_observe_only_lets_motions_through_and_lists_what_the_monitor_would_stop():
    from capc.compiler.frontend import compile_source
    from capc.compiler.scene import random_scene
    from capc.eval.trial import stream_violation
    from capc.runtime.execute import execute
    from capc.safety.spec import default_spec

    program = compile_source("move_to([-0.5, -0.5, 0.2])\nmove_to([0.0, -0.5, 0.2], speed=9.0)\n", "<p>")
    scene, spec = random_scene(0), default_spec()
    stopped = execute(program, scene, spec)
    observed = execute(program, scene, spec, observe_only=True)
    assert stopped.status == "stopped_by_monitor" and len(stopped.monitor_events) == 1
    assert observed.status == "completed"
    limits = [(e["call_index"], e["limit"]) for e in observed.monitor_events]
    assert (0, "workspace") in limits and (1, "speed") in limits
    assert all(e["observed"] for e in observed.monitor_events)
    assert min(observed.setpoints[:, 0]) < -0.49                      # the arm was let past the edge
    assert stream_violation(stopped.setpoints, spec) is None            # what the monitor let out is safe
    assert stream_violation(observed.setpoints, spec).limit == "workspace"


def test_outcome_events_are_named_by_their_codes_else_read_from_the_gripper():
    from capc.eval.trial import outcome_events

    assert outcome_events({"outcome_events": [{"code": "E520"}, {"code": "E524"}, {"code": "E524"}],
                           "gripper_events": [{"close": True, "held": None}]}) == \
        {"empty grasp": 1, "object disturbed": 2}
    assert outcome_events({"gripper_events": [{"close": True, "held": None}, {"close": True, "held": "red block"},
                                              {"close": False, "held": None}]}) == {"empty grasp": 1}
