"""`--ray` against local runs: capc eval, capc proptest and capc audit recheck give the same
results on a Ray instance as in local processes; Ray retries a job whose worker died once,
then reports it.

One private Ray instance (2 CPUs, no dashboard, bound to 127.0.0.1) serves the whole module:
starting Ray costs ~10 s, each test after that a few seconds."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from capc.cli import main
from capc.jobs import run_jobs
from eval_support import eval_args, mini_model
from llm_server import LLMServer

ROOT = Path(__file__).resolve().parents[1]
TESTS = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def ray_local():
    try:
        import ray
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("ray is missing in CI: the test extra installs it")
        pytest.skip("ray is not installed (pip install 'capc[ray]')")
    # Workers import the job functions of eval_support from tests/ (capc itself is installed).
    path = os.pathsep.join(p for p in (str(TESTS), os.environ.get("PYTHONPATH")) if p)
    ray.init(num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1", log_to_driver=False,
             configure_logging=False, runtime_env={"env_vars": {"PYTHONPATH": path}})
    yield ray
    ray.shutdown()


def _same(results: list[dict]) -> list[dict]:
    drop = ("seconds", "record_id", "model", "eval_run")
    return [{k: v for k, v in r.items() if k not in drop} for r in results]


def test_eval_on_ray_gives_the_local_results(ray_local, tmp_path, capsys):
    with LLMServer(fallback=mini_model) as server:
        assert main(eval_args(server, tmp_path / "local.db", "--workers", "0", "--json",
                              "--baseline", "unverified")) == 0
        local = json.loads(capsys.readouterr().out)
        assert main(eval_args(server, tmp_path / "ray.db", "--ray", "--json", "--baseline", "unverified")) == 0
        on_ray = json.loads(capsys.readouterr().out)
    assert _same(local["results"]) == _same(on_ray["results"])
    assert on_ray["summary"]["unverified"]["total"]["unsafe_executed"] == 2


def test_proptest_on_ray_gives_the_local_results(ray_local, tmp_path, capsys):
    policy = str(ROOT / "examples" / "edge_sensitive.py")
    reports = []
    # Fresh processes on both sides: hypothesis also draws on the constants of the modules its
    # process has loaded, so a search inside this long-lived test process may try other worlds.
    for scale in (["--workers", "1"], ["--ray"]):
        code = main(["proptest", policy, "--examples", "60", "--seed", "4", "--json",
                     "--out", str(tmp_path / "world.yaml"), *scale])
        assert code == 1
        report = json.loads(capsys.readouterr().out)
        report.pop("seconds")
        reports.append(report)
    assert reports[0] == reports[1] and reports[0]["found"]


def test_audit_recheck_on_ray_gives_the_local_results(ray_local, tmp_path, capsys, monkeypatch):
    # The process guard's address-space cap is below what the Ray client in this test process
    # has mapped already; `capc` commands run here in-process, so the cap is switched off.
    monkeypatch.setenv("CAPC_MAX_MEMORY_MB", "0")
    db = str(tmp_path / "audit.db")
    for name in ("stack_all_blocks", "edge_sensitive", "closest_block_to_bowl", "blocks_to_corners"):
        assert main(["check", str(ROOT / "examples" / f"{name}.py"), "--audit-db", db]) in (0, 1, 3)
    capsys.readouterr()
    outputs = []
    for scale in ([], ["--ray"]):
        assert main(["audit", "--audit-db", db, "recheck", "--all", "--json", *scale]) == 0
        data = json.loads(capsys.readouterr().out)
        # Z3 may pick other counterexample numbers in another process: compare verdicts and codes
        outputs.append([(r["id"], r["old"], r["new"], r["changed"], r["cached"], r["detail"].split(":")[0])
                        for r in data["results"]])
    assert outputs[0] == outputs[1] and len(outputs[0]) == 4


def test_ray_retries_a_job_whose_worker_died_once_then_reports_it(ray_local, tmp_path):
    results = run_jobs("eval_support:die_once", [("a", {"n": 1, "marker": str(tmp_path / "a")})],
                       ray_address="local")
    assert [(r.key, r.ok, r.value) for r in results] == [("a", True, {"n": 1, "survived": True})]
    results = run_jobs("eval_support:die_always", [("doomed", {"n": 0})], ray_address="local")
    assert [(r.key, r.ok) for r in results] == [("doomed", False)]
    assert "died 2 times" in results[0].error
    results = run_jobs("eval_support:fail", [("raises", {"n": 3})], ray_address="local")
    assert not results[0].ok and "fails on purpose" in results[0].error
