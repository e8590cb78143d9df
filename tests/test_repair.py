"""Verifier-guided repair through the openai provider and a loopback model server."""

from __future__ import annotations

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from llm_server import LLMServer, by_prompt, reply  # noqa: E402

from capc.compiler.scene import Scene, make_object  # noqa: E402
from capc.prompts.pipeline import compile_instruction  # noqa: E402
from capc.prompts.provider import TruncatedReply  # noqa: E402
from capc.prompts.provider_openai import OpenAIProvider  # noqa: E402
from capc.safety.spec import default_spec  # noqa: E402
from capc.safety.context import VerificationContext  # noqa: E402

SCENE = Scene((make_object("green block", (-0.1, -0.6)), make_object("blue bowl", (0.2, -0.5)),
               make_object("red block", (0.0, -0.4))))
UNSAFE = "bowl = get_obj_pos('blue bowl')\nput_first_on_second('green block', [bowl[0] + 0.1, bowl[1]])\n"
SAFE = "bowl = get_obj_pos('blue bowl')\nput_first_on_second('green block', [bowl[0] - 0.1, bowl[1]])\n"
INSTRUCTION = "put the green block 10cm to the right of the blue bowl"


def provider(server: LLMServer) -> OpenAIProvider:
    return OpenAIProvider(model="test-model", base_url=server.base_url, api_key="k", timeout=5, retries=0)


def compile_with(server: LLMServer, **options):
    return compile_instruction(INSTRUCTION, provider(server), scene=SCENE, spec=default_spec(), **options)


def test_unsafe_then_safe_is_accepted_after_one_repair():
    with LLMServer() as server:
        server.fallback = by_prompt(policies=[UNSAFE, SAFE])
        result = compile_with(server)
    assert [a.verdict for a in result.attempts] == ["rejected", "accepted"]
    assert result.verdict == "accepted" and result.repaired
    first = result.attempts[0]
    violation = next(d for d in first.diagnostics if d.counterexample)
    assert violation.code.startswith("E3")
    assert len(server.requests) == 2
    second = server.requests[1]["messages"]
    # The second request is the first conversation plus the rejected reply and the reasons.
    assert second[:-2] == server.requests[0]["messages"]
    assert second[-2] == {"role": "assistant", "content": UNSAFE.strip("\n")}
    feedback = second[-1]["content"]
    assert f"error[{violation.code}]" in feedback
    assert violation.message in feedback
    assert "counterexample:" in feedback and "blue bowl at (" in feedback
    assert "put_first_on_second('green block', [bowl[0] + 0.1, bowl[1]])" in feedback  # the source line


def test_every_attempt_is_kept_and_the_limit_holds():
    with LLMServer() as server:
        server.fallback = by_prompt(policies=[UNSAFE])
        result = compile_with(server, repairs=2)
    assert [a.verdict for a in result.attempts] == ["rejected"] * 3
    assert len(server.requests) == 3
    data = result.to_json()
    assert data["repairs"] == 2 and len(data["attempts"]) == 3
    assert all(a["diagnostics"] for a in data["attempts"])


def test_repair_zero_asks_once():
    with LLMServer() as server:
        server.fallback = by_prompt(policies=[UNSAFE, SAFE])
        result = compile_with(server, repairs=0)
    assert result.verdict == "rejected" and len(server.requests) == 1


def test_a_reply_that_does_not_compile_is_repaired_too():
    with LLMServer() as server:
        server.fallback = by_prompt(policies=["import os\nos.system('rm -rf /')\n", SAFE])
        result = compile_with(server)
    assert [a.verdict for a in result.attempts] == ["rejected", "accepted"]
    feedback = server.requests[1]["messages"][-1]["content"]
    assert result.attempts[0].diagnostics[0].code in feedback and "import os" in feedback


def test_a_truncated_reply_is_not_repaired_but_refused():
    with LLMServer() as server:
        server.script(reply("bowl = get_obj_pos(", finish_reason="length"))
        with pytest.raises(TruncatedReply):
            compile_with(server)
    assert len(server.requests) == 1


def test_every_attempt_reaches_the_audit_store(tmp_path, monkeypatch):
    from capc.limits import DEFAULT_LIMITS
    from capc.prompts.pipeline import audit_compile
    from capc.audit.store import open_store

    monkeypatch.setenv("CAPC_AUDIT_DB", str(tmp_path / "audit.db"))
    with LLMServer() as server:
        server.fallback = by_prompt(policies=[UNSAFE, SAFE])
        llm = provider(server)
        result = compile_instruction(INSTRUCTION, llm, scene=SCENE, spec=default_spec())
    context = VerificationContext(default_spec(), SCENE, limits=DEFAULT_LIMITS)
    record_id = audit_compile("compile", result, llm, context=context)
    assert record_id is not None
    with open_store(str(tmp_path / "audit.db")) as store:
        record = store.get(record_id)
    assert record["instruction"] == INSTRUCTION and record["verdict"] == "accepted"
    assert record["model"] == "test-model" and record["provider"] == "openai"
    assert record["mode"] == "scene" and record["profile"] == "tabletop"
    assert record["scene"] == SCENE.to_json() and record["spec"] == default_spec().to_json()
    attempts = record["attempts"]
    assert [a["verdict"] for a in attempts] == ["rejected", "accepted"]
    assert attempts[1]["parent"] == 0
    assert "bowl[0] + 0.1" in attempts[0]["source"] and attempts[0]["diagnostics"]
    assert attempts[0]["request"]["messages"][-1]["content"].startswith("objects = [")


def test_any_scene_proves_for_every_placement_of_the_named_objects():
    # Safe where the scene puts the bowl (x = 0.2 - 0.1), not for a bowl anywhere on the table.
    with LLMServer() as server:
        server.fallback = by_prompt(policies=[SAFE])
        here = compile_with(server, repairs=0)
        anywhere = compile_with(server, repairs=0, any_scene=True)
    assert here.verdict == "accepted" and anywhere.verdict == "rejected"
    cex = next(d.counterexample for d in anywhere.final.diagnostics if d.counterexample)
    assert cex["objects"]["blue bowl"][0] < -0.15  # a bowl near the left edge breaks bowl[0] - 0.1


def test_feedback_explains_the_line_capc_added():
    unsafe = "for name in objects:\n    move_to([0.6, -0.5, 0.1])\n"
    with LLMServer() as server:
        server.fallback = by_prompt(policies=[unsafe, SAFE])
        result = compile_with(server)
    assert result.verdict == "accepted"
    feedback = server.requests[1]["messages"][-1]["content"]
    assert "line numbers count the line `objects = get_obj_names()` that capc put first" in feedback
    assert "--> <policy>:3:" in feedback  # the move is line 2 of the reply, line 3 of what was checked
