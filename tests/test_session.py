"""Session state (issue 13): the variables of earlier instructions are visible to later ones,
with their values known to the verifier, as in Code as Policies' interactive session."""

from __future__ import annotations

import json
import os
import sys

import numpy as np
import pytest

from capc.compiler.frontend import compile_source
from capc.compiler.scene import parse_scene
from capc.diagnostics import CompileError
from capc.prompts.session import Variables as Session, literal
from capc.safety.spec import default_spec
from capc.safety.verifier import verify

sys.path.insert(0, os.path.dirname(__file__))
from test_demo import SCENE_YAML, capc, no_traceback  # noqa: E402
from llm_server import LLMServer, by_prompt  # noqa: E402

SCENE = parse_scene(SCENE_YAML)


def test_values_are_written_as_constants_that_read_back():
    import shapely.geometry

    values = {"n": 3, "x": 0.25, "name": "red block", "names": ["red block", "blue bowl"],
              "pt": np.array([0.1, -0.5]), "pts": np.array([[0.0, -0.4], [0.1, -0.5]]),
              "line": shapely.geometry.LineString([(0, -0.4), (0.1, -0.5)]), "pair": (1, "a"),
              "table": {"a": 1.5}}
    session = Session()
    session.record(values)
    program = compile_source(session.prelude() + "done = True\n", "policy.py")
    from capc.compiler.interpreter import run_program

    got = run_program(program, lambda call: None).globals.vars
    for name, value in values.items():
        if isinstance(value, np.ndarray):
            assert np.array_equal(got[name], value)
        elif hasattr(value, "geom_type"):
            assert got[name].equals_exact(value, 0.0)
        else:
            assert got[name] == value


def test_what_cannot_be_written_is_left_out():
    assert literal(float("inf")) is None and literal(np.zeros(20_000)) is None and literal(len) is None
    session = Session()
    session.record({"f": print, "ok": 1, "_hidden": 2})
    assert session.names() == ["ok"]


def test_a_later_query_sees_earlier_variables_and_the_verifier_their_values():
    session = Session()
    session.record({"left_block_name": "red block", "target": np.array([0.25, -0.5])})
    policy = "put_first_on_second(left_block_name, target + [0.02, 0.0])\n"
    with pytest.raises(CompileError):  # alone, the names are not defined (E120)
        compile_source(policy, "policy.py")
    program = compile_source(policy, "policy.py", session=session.prelude())
    assert verify(program, default_spec(), SCENE).verdict == "accepted"
    session.record({"target": np.array([0.29, -0.5])})  # a later query moved it to the edge
    program = compile_source(policy, "policy.py", session=session.prelude())
    report = verify(program, default_spec(), SCENE)
    assert report.verdict == "rejected" and report.violated()[0].counterexample["replayed"] is True


def test_shell_keeps_the_variables_of_earlier_instructions(tmp_path):
    (tmp_path / "scene.yaml").write_text(SCENE_YAML)
    with LLMServer() as server:
        server.fallback = by_prompt(policies=["spot = get_obj_pos('blue bowl') + [0.2, 0.0]",
                                              "put_first_on_second('red block', spot)"])
        proc = capc("shell", "--scene", "scene.yaml", "--llm", "openai", "--model", "m", "--base-url",
                    server.base_url, "--repair", "0", "--retries", "0",
                    stdin="remember a spot right of the bowl\nput the red block there\n:vars\n",
                    tmp_path=tmp_path)
    no_traceback(proc)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("run: completed") == 2, proc.stdout
    assert "spot = np.array([" in proc.stdout


# --- one `capc compile` session: several instructions, one after another ----------------------

REMEMBER, PUT = "remember a spot beside the bowl", "put the red block there"


def _compile_session(tmp_path, offset: float, *extra: str):
    """`capc compile -i REMEMBER -i PUT --json` against the loopback model; the first policy
    keeps a spot `offset` right of the bowl, the second carries the red block there."""
    (tmp_path / "scene.yaml").write_text(SCENE_YAML)
    with LLMServer() as server:
        server.fallback = by_prompt(policies=[f"spot = get_obj_pos('blue bowl') + [{offset}, 0.0]",
                                              "put_first_on_second('red block', spot)"])
        proc = capc("compile", "--scene", "scene.yaml", "--llm", "openai", "--model", "m", "--base-url",
                    server.base_url, "--repair", "0", "--retries", "0", "-i", REMEMBER, "-i", PUT, *extra,
                    tmp_path=tmp_path)
    no_traceback(proc)
    return proc, server


def test_compile_session_proves_the_later_instruction_with_the_earlier_value(tmp_path):
    proc, server = _compile_session(tmp_path, 0.2, "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["verdict"] == "accepted" and [s["verdict"] for s in out["steps"]] == ["accepted", "accepted"]
    first, second = out["steps"]
    assert first["session"] == "" and first["run"]["status"] == "completed"
    # the bowl stands at (-0.10, -0.60): the value the first policy left, as a constant
    assert second["session"] == "spot = np.array([0.1, -0.6])\n"
    assert second["assembled"].startswith("# <session>") and "spot = np.array([0.1, -0.6])" in second["assembled"]
    assert "E305" not in json.dumps(second["diagnostics"])   # proved, not guarded
    # the model saw the earlier instruction and its policy
    assert REMEMBER in server.prompts()[-1] and "spot = get_obj_pos" in server.prompts()[-1]


def test_compile_session_rejects_an_unsafe_earlier_value_with_a_counterexample(tmp_path):
    proc, _ = _compile_session(tmp_path, -0.25, "--json")   # (-0.35, -0.6): left of the workspace
    assert proc.returncode == 1, proc.stderr
    out = json.loads(proc.stdout)
    assert out["verdict"] == "rejected" and [s["verdict"] for s in out["steps"]] == ["accepted", "rejected"]
    [diagnostic] = out["steps"][1]["diagnostics"]
    assert diagnostic["code"] == "E301"
    example = diagnostic["counterexample"]
    assert example["replayed"] is True and example["variables"]["spot"] == [-0.35, -0.6]


def test_compile_session_prints_files_that_check_on_their_own(tmp_path):
    proc, _ = _compile_session(tmp_path, 0.2, "-o", "session.py")
    assert proc.returncode == 0, proc.stderr
    assert "[instruction 2 of 2] put the red block there" in proc.stderr
    assert proc.stdout.count("# instruction ") == 2
    second = proc.stdout.split("# instruction 2: put the red block there\n", 1)[1]
    (tmp_path / "second.py").write_text(second)
    assert (tmp_path / "session.py").read_text() == proc.stdout
    for name in ("second.py", "session.py"):
        check = capc("check", name, "--scene", "scene.yaml", tmp_path=tmp_path)
        assert check.returncode == 0, check.stdout + check.stderr


def test_instructions_file_and_a_session_that_ends_at_a_rejection(tmp_path):
    (tmp_path / "scene.yaml").write_text(SCENE_YAML)
    (tmp_path / "steps.txt").write_text(f"# the session\n{REMEMBER}\n\n{PUT}\nand then wave\n")
    with LLMServer() as server:
        server.fallback = by_prompt(policies=["spot = get_obj_pos('blue bowl') + [-0.25, 0.0]",
                                              "put_first_on_second('red block', spot)"])
        proc = capc("compile", "--scene", "scene.yaml", "--llm", "openai", "--model", "m", "--base-url",
                    server.base_url, "--repair", "0", "--retries", "0", "--instructions", "steps.txt",
                    "-o", "out.py", tmp_path=tmp_path)
    no_traceback(proc)
    assert proc.returncode == 1
    assert len(server.requests) == 2   # the third instruction is never asked
    assert "session ended at instruction 2" in proc.stderr and "verdict: rejected (2 of 3" in proc.stderr
    assert not (tmp_path / "out.py").exists()
    empty = capc("compile", "--instructions", "scene.yaml.missing", tmp_path=tmp_path)
    assert empty.returncode == 2 and "Traceback" not in empty.stderr


def test_compile_session_in_process_and_the_audit_recheck_agrees(tmp_path):
    import capc as api
    from capc.audit.recheck import Rechecker
    from capc.prompts.pipeline import compile_fields
    from capc.prompts.provider import Reply

    class Model:
        name, model, temperature = "scripted", "scripted-model", 0.0

        def __init__(self, *policies):
            self.policies = list(policies)

        def complete(self, request):
            text = self.policies.pop(0)
            return Reply(text, "stop", text)

    steps = api.compile_session([REMEMBER, PUT], Model("spot = get_obj_pos('blue bowl') + [0.2, 0.0]",
                                                       "put_first_on_second('red block', spot)"), scene=SCENE)
    assert [s.result.verdict for s in steps] == ["accepted", "accepted"] and all(s.finished for s in steps)
    # the red block was carried: the session's scene moved on with it
    assert steps[1].outcome.final_positions["red block"][:2] == pytest.approx([0.1, -0.6], abs=0.01)
    # a stored session record is rechecked with the variables it was compiled with
    from capc.audit.store import normalize
    record = normalize(compile_fields(steps[1].result, Model(), context=steps[1].context))
    record["id"] = 1
    assert record["extra"]["session"] == steps[1].session
    assert Rechecker().check(record).new_verdict == "accepted"
    with pytest.raises(Exception) as info:
        api.compile_session([REMEMBER, PUT], Model(), scene=None)
    assert "needs a scene" in str(info.value)
