"""Session state (issue 13): the variables of earlier instructions are visible to later ones,
with their values known to the verifier, as in Code as Policies' interactive session."""

from __future__ import annotations

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
        server.fallback = by_prompt(policies=["spot = get_obj_pos('blue bowl') + [0.05, 0.0]",
                                              "put_first_on_second('red block', spot)"])
        proc = capc("shell", "--scene", "scene.yaml", "--llm", "openai", "--model", "m", "--base-url",
                    server.base_url, "--repair", "0", "--retries", "0",
                    stdin="remember a spot right of the bowl\nput the red block there\n:vars\n",
                    tmp_path=tmp_path)
    no_traceback(proc)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("run: completed") == 2, proc.stdout
    assert "spot = np.array([" in proc.stdout
