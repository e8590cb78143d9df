"""The commands of the LLM layer end to end: demo, compile, shell (subprocesses, loopback model)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from llm_server import LLMServer, by_prompt, reply  # noqa: E402
from own_output import run_recorded  # noqa: E402

from capc.prompts import demo_script  # noqa: E402
from capc.prompts.cassette import load_cassette  # noqa: E402
from capc.prompts.demo import compile_demo  # noqa: E402
from capc.prompts.provider_replay import ReplayProvider  # noqa: E402

CAPC = [sys.executable, "-m", "capc"]
SCENE_YAML = """objects:
  - {name: red block, position: [0.10, -0.45]}
  - {name: blue bowl, position: [-0.10, -0.60]}
"""


def capc(*args: str, stdin: str | None = None, tmp_path=None, timeout: float = 120) -> subprocess.CompletedProcess:
    env = dict(os.environ, CAPC_AUDIT_DB=str(tmp_path / "audit.db") if tmp_path else "off")
    env.pop("CAPC_DEBUG", None)
    return subprocess.run(CAPC + list(args), input=stdin, capture_output=True, text=True, timeout=timeout,
                          env=env, cwd=str(tmp_path) if tmp_path else None)


def no_traceback(proc: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout, proc.stderr


# --- the shipped cassette -----------------------------------------------------------------

def test_the_shipped_cassette_matches_our_prompts():
    """The few-shot turns and the instruction of every first request must be exactly what the
    cassette holds (they are ours: rebuild with `python -m capc.prompts.demo`). The
    system message prints the registry and the front end's allow-lists, and a repair request
    holds the verifier's wording; those may be refined by their owners, and then the demo
    matches by instruction and says so (see the next test)."""
    from capc.prompts import prompt_builder as pb
    entries = load_cassette(demo_script.CASSETTE)
    firsts = [e for e in entries if e.meta.get("lmp") == "policy" and e.meta.get("attempt") == 0]
    assert [e.meta["query"] for e in firsts] == list(demo_script.INSTRUCTIONS)
    for entry in firsts:
        expected = pb.policy_prompt(entry.meta["query"], demo_script.SCENE.names()).request(demo_script.DEMO_MODEL)
        recorded = [(m["role"], m["content"]) for m in entry.request["messages"]]
        assert recorded[1:] == list(expected.messages[1:]), \
            "few-shots or prompt layout changed: python -m capc.prompts.demo"
    provider = ReplayProvider(demo_script.CASSETTE, match_by_query=True)
    results = compile_demo(provider)
    assert [[a.verdict for a in r.attempts] for r in results] == [
        ["accepted"], ["rejected", "accepted"], ["accepted"], ["accepted"]]
    assert len(provider.used) == len(provider.entries)
    assert results[2].final.generated.helpers and results[3].final.generated.helpers


def test_prompt_drift_is_reported_by_the_demo(tmp_path, monkeypatch):
    from capc.prompts import prompt_builder as pb
    import io

    from capc.prompts.demo import run_demo
    monkeypatch.setenv("CAPC_AUDIT_DB", "off")
    monkeypatch.setitem(pb._RULES, "policy", pb._RULES["policy"] + " (changed)")
    provider = ReplayProvider(demo_script.CASSETTE, match_by_query=True)
    out = io.StringIO()
    report = run_demo(provider, str(tmp_path), backend="kinematic", out=out)
    assert report.ok and {m["query"] for m in report.drifted} >= set(demo_script.INSTRUCTIONS)
    assert "matched by instruction because the prompt text changed" in out.getvalue()
    with pytest.raises(Exception) as info:  # strict replay refuses the changed prompt
        compile_demo(ReplayProvider(demo_script.CASSETTE))
    assert "E607" in str(getattr(info.value, "code", "")) or "no reply" in str(info.value)


def test_the_shipped_replies_say_who_wrote_them():
    entries = load_cassette(demo_script.CASSETTE)
    assert entries and all(e.source == demo_script.AUTHORSHIP for e in entries)
    assert "not the output of any language model" in demo_script.AUTHORSHIP


# --- capc demo ------------------------------------------------------------------------------

def test_demo_offline_on_the_kinematic_backend(tmp_path):
    proc = capc("demo", "--backend", "kinematic", "--out", "out", tmp_path=tmp_path)
    no_traceback(proc)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "written by the capc authors" in proc.stdout
    assert "verdict: rejected" in proc.stdout and "counterexample:" in proc.stdout
    assert "repair 1:" in proc.stdout and proc.stdout.count("completed") == 4
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["ok"] and [s["repairs"] for s in summary["steps"]] == [0, 1, 0, 0]
    assert "summary.txt" in proc.stdout and (tmp_path / "out" / "summary.txt").exists()
    # each run the demo made is in the audit store with its timeline: it can be opened in Foxglove
    export = capc("audit", "export", "4", "--mcap", "last.mcap", tmp_path=tmp_path)
    assert export.returncode == 0, export.stderr
    assert "exported run #4" in export.stdout and (tmp_path / "last.mcap").stat().st_size > 0


@pytest.mark.slow
def test_demo_on_pybullet_writes_the_animation(tmp_path):
    env = dict(os.environ, CAPC_AUDIT_DB=str(tmp_path / "audit.db"))
    env.pop("CAPC_DEBUG", None)
    proc, written = run_recorded("demo", "--out", "out", cwd=tmp_path, env=env)
    # nothing on the terminal that capc did not write (PyBullet's banner was such a line)
    assert (proc.stdout, proc.stderr) == (written["stdout"], written["stderr"])
    assert "pybullet build time" not in proc.stdout + proc.stderr
    no_traceback(proc)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = tmp_path / "out"
    assert (out / "demo.gif").stat().st_size > 10_000
    assert all((out / f"step{i}.gif").exists() for i in range(1, 5))
    assert str(out / "demo.gif") in proc.stdout


def test_demo_live_against_an_endpoint(tmp_path):
    r = demo_script.REPLIES
    i = demo_script.INSTRUCTIONS
    with LLMServer() as server:
        server.fallback = by_prompt(
            policies=[r[("policy", i[0], 0)], r[("policy", i[1], 0)], r[("policy", i[1], 1)],
                      r[("policy", i[2], 0)], r[("policy", i[3], 0)]],
            functions={"make_circle": r[("function", "make_circle(radius, center, n)", 0)]},
            answers={"the bowl closest to the yellow block":
                     r[("parse_obj_name", "the bowl closest to the yellow block", 0)]})
        proc = capc("demo", "--live", "--backend", "kinematic", "--out", "out", "--model", "live-m",
                    "--base-url", server.base_url, tmp_path=tmp_path)
    no_traceback(proc)
    assert "replies come from live-m via openai" in proc.stdout
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert len(server.requests) == 7 and all(r["model"] == "live-m" for r in server.requests)


# --- capc compile -----------------------------------------------------------------------------

def compile_args(server: LLMServer, *extra: str) -> list[str]:
    return ["compile", "--scene", "scene.yaml", "--llm", "openai", "--model", "m", "--base-url",
            server.base_url, "--retries", "0", "--timeout", "5", *extra]


@pytest.fixture
def workdir(tmp_path):
    (tmp_path / "scene.yaml").write_text(SCENE_YAML)
    return tmp_path


@pytest.mark.parametrize("instruction", ["把红色方块放进蓝色碗里 🎉", "put the red block\nin the bowl # now"])
def test_compile_passes_any_instruction_through_untouched(workdir, instruction):
    with LLMServer() as server:
        server.fallback = by_prompt(policies=["put_first_on_second('red block', 'blue bowl')"])
        proc = capc(*compile_args(server, "-i", instruction, "-o", "policy.py"), tmp_path=workdir)
    no_traceback(proc)
    assert proc.returncode == 0, proc.stderr
    last = server.requests[0]["messages"][-1]["content"]
    assert json.loads(last.split("# query: ", 1)[1]) == instruction
    assert proc.stdout == "put_first_on_second('red block', 'blue bowl')\n"
    assert (workdir / "policy.py").read_text() == proc.stdout
    assert "verdict: accepted" in proc.stderr


def test_compiled_policy_with_helpers_passes_capc_check(workdir):
    policy = ("center = get_obj_pos('blue bowl')\npts = make_circle(radius=0.04, center=center, n=8)\n"
              "move_to([center[0] + 0.04, center[1], 0.1], speed=0.1)\nfollow_traj(pts, speed=0.1)\n")
    with LLMServer() as server:
        server.fallback = by_prompt(policies=[policy], functions={
            "make_circle": demo_script.REPLIES[("function", "make_circle(radius, center, n)", 0)]})
        proc = capc(*compile_args(server, "-i", "circle the bowl", "-o", "policy.py", "--json"), tmp_path=workdir)
    no_traceback(proc)
    data = json.loads(proc.stdout)
    assert proc.returncode == 0 and data["verdict"] == "accepted"
    assert "def make_circle" in data["assembled"] and "def make_circle" not in data["policy"]
    assert [(p["name"], p["origin"]) for p in data["parts"]] == [
        ("make_circle", "in make_circle, generated for line 2")]
    check = capc("check", "policy.py", "--scene", "scene.yaml", tmp_path=workdir)
    assert check.returncode == 0, check.stdout + check.stderr


def test_compile_rejected_after_repairs_exits_1_with_the_diagnostic(workdir):
    with LLMServer() as server:
        server.fallback = by_prompt(policies=["move_to([0.5, -0.5, 0.1])"])
        proc = capc(*compile_args(server, "-i", "go right", "--repair", "1"), tmp_path=workdir)
    no_traceback(proc)
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.count("[repair 1] rejected") == 1 and "counterexample" in proc.stderr
    assert len(server.requests) == 2


@pytest.mark.parametrize("kind, code, exit_code", [
    ("truncated", "E605", 8), ("malformed", "E604", 7), ("http", "E603", 6), ("timeout", "E602", 5)])
def test_compile_model_failures_have_their_own_exit_codes(workdir, kind, code, exit_code):
    from llm_server import Scripted, malformed
    scripted = {"truncated": reply("move_to(", finish_reason="length"), "malformed": malformed(),
                "http": Scripted(401, json.dumps({"error": {"message": "bad key"}})),
                "timeout": reply("say('late')", delay=3.0)}[kind]
    with LLMServer() as server:
        server.script(scripted)
        args = compile_args(server, "-i", "wave")
        args[args.index("--timeout") + 1] = "0.5"
        proc = capc(*args, tmp_path=workdir)
    no_traceback(proc)
    assert proc.returncode == exit_code and f"error[{code}]" in proc.stderr
    assert proc.stdout == "" and len(server.requests) == 1


def test_compile_waits_out_a_429_and_succeeds(workdir):
    from llm_server import rate_limited
    with LLMServer() as server:
        server.script(rate_limited(retry_after="1"), reply("say('hello')"))
        args = compile_args(server, "-i", "greet")
        args[args.index("--retries") + 1] = "2"
        proc = capc(*args, tmp_path=workdir)
    no_traceback(proc)
    assert proc.returncode == 0 and proc.stdout == "say('hello')\n" and len(server.requests) == 2


def test_record_then_replay_gives_the_same_policy(workdir):
    with LLMServer() as server:
        server.fallback = by_prompt(policies=["put_first_on_second('red block', 'blue bowl')"])
        live = capc(*compile_args(server, "-i", "tidy up", "--record", "rec.jsonl"), tmp_path=workdir)
    replayed = capc("compile", "--scene", "scene.yaml", "-i", "tidy up", "--cassette", "rec.jsonl",
                    tmp_path=workdir)
    assert live.returncode == replayed.returncode == 0 and live.stdout == replayed.stdout
    miss = capc("compile", "--scene", "scene.yaml", "-i", "something else", "--cassette", "rec.jsonl",
                tmp_path=workdir)
    assert miss.returncode == 2 and "'something else'" in miss.stderr and "E607" in miss.stderr


# --- capc shell -------------------------------------------------------------------------------

def test_shell_checks_each_instruction_and_keeps_history(workdir):
    with LLMServer() as server:
        server.fallback = by_prompt(policies=["put_first_on_second('red block', 'blue bowl')",
                                              "move_to([0.9, -0.5, 0.1])",
                                              "say('done')"])
        proc = capc("shell", "--scene", "scene.yaml", "--llm", "openai", "--model", "m", "--base-url",
                    server.base_url, "--repair", "0", "--retries", "0",
                    stdin="put the red block in the blue bowl\ngo far right\n:history\nsay done 👋\n",
                    tmp_path=workdir)
    no_traceback(proc)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert out.count("run: completed") == 2 and "not run: the policy was rejected" in out
    assert "robot says: done" in out
    # The third request carries the accepted first turn as history, not the rejected second one.
    third = server.requests[2]["messages"]
    assert {"role": "assistant", "content": "put_first_on_second('red block', 'blue bowl')"} in third
    assert not any("0.9" in m["content"] for m in third if m["role"] == "assistant")
    assert third[-1]["content"].endswith('# query: "say done 👋"')


def test_hostile_object_names_reach_the_model_as_data_and_the_policy_as_strings(tmp_path):
    hostile = "x'); import os; ('"
    (tmp_path / "scene.yaml").write_text(json.dumps({"objects": [
        {"name": hostile, "position": [0.1, -0.45]}, {"name": "blue bowl", "position": [-0.1, -0.6]}]}))
    policy = f"put_first_on_second({hostile!r}, 'blue bowl')"
    with LLMServer() as server:
        server.fallback = by_prompt(policies=[policy])
        proc = capc(*compile_args(server, "-i", "put it in the bowl", "--json"), tmp_path=tmp_path)
    no_traceback(proc)
    assert proc.returncode == 0, proc.stderr
    turn = server.requests[0]["messages"][-1]["content"]
    assert turn.split("\n")[0] == f"objects = [{hostile!r}, 'blue bowl']"
    assert json.loads(proc.stdout)["assembled"] == policy + "\n"


# --- capc run -i ------------------------------------------------------------------------------

def run_args(server: LLMServer, *extra: str) -> list[str]:
    return ["run", "--scene", "scene.yaml", "--llm", "openai", "--model", "m", "--base-url", server.base_url,
            "--retries", "0", "--timeout", "5", *extra]


def test_run_from_an_instruction_generates_checks_and_executes(workdir):
    # the query calls a function of the policy's own, so capc does not foresee it at compile
    # time (capc.prompts.generate: only queries that can be evaluated twice are): run time
    policy = ("def colour_of(word):\n"
              "    return word\n"
              "for colour in ['red']:\n"
              "    name = parse_obj_name(f'the {colour_of(colour)} block', f'objects = {objects}')\n"
              "    put_first_on_second(name, 'blue bowl')\n")
    with LLMServer() as server:
        server.fallback = by_prompt(policies=[policy], answers={"the red block": "ret_val = 'red block'"})
        proc = capc(*run_args(server, "-i", "put the red block in the bowl", "--json"), tmp_path=workdir)
    no_traceback(proc)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = json.loads(proc.stdout)
    # The object the run-time sub-LMP names is unknown when verifying: the move is guarded.
    assert data["verdict"] == "guarded" and data["run"]["status"] == "completed"
    red = data["run"]["final_positions"]["red block"]
    assert abs(red[0] - (-0.10)) < 0.03 and abs(red[1] - (-0.60)) < 0.03
    # one policy request, then the run-time sub-LMP request (its query is only known at run time)
    assert len(server.requests) == 2 and '"the red block"' in server.requests[1]["messages"][-1]["content"]


def test_run_from_an_instruction_never_moves_a_rejected_policy(workdir):
    with LLMServer() as server:
        server.fallback = by_prompt(policies=["move_to([0.6, -0.5, 0.1])"])
        proc = capc(*run_args(server, "-i", "reach out", "--repair", "1"), tmp_path=workdir)
        as_json = capc(*run_args(server, "-i", "reach out", "--repair", "0", "--json"), tmp_path=workdir)
    no_traceback(proc)
    assert proc.returncode == 1 and "error[E3" in proc.stderr
    assert "[repair 1] rejected" in proc.stderr and len(server.requests) == 3
    data = json.loads(as_json.stdout)
    assert as_json.returncode == 1 and data["verdict"] == "rejected" and data["run"] is None


def test_run_refuses_a_file_and_an_instruction_together(workdir):
    proc = capc("run", "policy.py", "-i", "wave", "--cassette", "x.jsonl", tmp_path=workdir)
    assert proc.returncode == 2 and "not both" in proc.stderr
