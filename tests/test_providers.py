"""The openai provider against a real HTTP server on 127.0.0.1, the cassette, replay and record."""

from __future__ import annotations

import json
import os
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from llm_server import LLMServer, Scripted, malformed, rate_limited, reply, server_error  # noqa: E402

from capc.prompts.cassette import load_cassette, request_key  # noqa: E402
from capc.prompts.provider import (  # noqa: E402
    CassetteMiss, EndpointHTTPError, EndpointTimeout, EndpointUnreachable, MalformedReply,
    ProviderConfigError, Request, TruncatedReply, strip_fences,
)
from capc.prompts.provider_openai import OpenAIProvider, retry_after_seconds  # noqa: E402
from capc.prompts.provider_replay import RecordingProvider, ReplayProvider  # noqa: E402

REQUEST = Request("test-model", (("system", "write code"), ("user", "# query: \"wave\"")),
                  stop=("objects = [",), meta={"lmp": "policy", "query": "wave"})


def provider(server: LLMServer, **options) -> OpenAIProvider:
    waits: list[float] = []
    options.setdefault("sleep", waits.append)  # record the waits instead of sleeping
    return OpenAIProvider(model="test-model", base_url=server.base_url, api_key="k",
                          timeout=options.pop("timeout", 5.0), **options)


def test_normal_reply_and_the_request_sent():
    with LLMServer() as server:
        server.script(reply("say('hello')"))
        answer = provider(server).complete(REQUEST)
    assert answer.text == "say('hello')" and answer.finish_reason == "stop"
    (sent,) = server.requests
    assert sent["model"] == "test-model"
    assert sent["temperature"] == 0.0
    assert sent["stop"] == ["objects = ["]
    assert sent["messages"] == [{"role": "system", "content": "write code"},
                                {"role": "user", "content": "# query: \"wave\""}]
    assert server.headers[0]["authorization"] == "Bearer k"


def test_fenced_reply_is_stripped_of_fences_and_prose():
    text = "Here is the policy:\n```python\nsay('hi')\nmove_to([0.0, -0.5])\n```\nHope this helps."
    with LLMServer() as server:
        server.script(reply(text))
        answer = provider(server).complete(REQUEST)
    assert answer.text == "say('hi')\nmove_to([0.0, -0.5])"
    assert answer.raw == text


def test_429_with_retry_after_then_success_waits_as_told():
    with LLMServer() as server:
        server.script(rate_limited(retry_after="2"), reply("say('ok')"))
        llm = provider(server, backoff=0.01)
        answer = llm.complete(REQUEST)
    assert answer.text == "say('ok')"
    assert llm.waits == [2.0]  # the server's Retry-After, not our own backoff
    assert len(server.requests) == 2 and server.requests[0] == server.requests[1]


def test_500_twice_then_success_backs_off_exponentially():
    with LLMServer() as server:
        server.script(server_error(), server_error(503), reply("say('third time')"))
        llm = provider(server, backoff=0.5)
        answer = llm.complete(REQUEST)
    assert answer.text == "say('third time')"
    assert llm.waits == [0.5, 1.0]
    assert len(server.requests) == 3


def test_real_sleep_honours_retry_after():
    with LLMServer() as server:
        server.script(rate_limited(retry_after="1"), reply("say('ok')"))
        llm = provider(server, sleep=time.sleep)
        start = time.monotonic()
        llm.complete(REQUEST)
    assert time.monotonic() - start >= 1.0


def test_retries_exhausted_is_an_http_error_with_its_own_exit_code():
    with LLMServer() as server:
        server.script(*[server_error() for _ in range(3)])
        with pytest.raises(EndpointHTTPError) as info:
            provider(server, retries=2).complete(REQUEST)
    assert info.value.code == "E603" and info.value.exit_code == 6
    assert "HTTP 500" in str(info.value) and "internal failure" in str(info.value)
    assert len(server.requests) == 3


def test_client_errors_are_not_retried():
    with LLMServer() as server:
        server.script(Scripted(401, json.dumps({"error": {"message": "bad key"}})))
        with pytest.raises(EndpointHTTPError) as info:
            provider(server).complete(REQUEST)
    assert len(server.requests) == 1
    assert "401" in str(info.value) and "OPENAI_API_KEY" in info.value.diagnostic.hint


def test_timeout_is_reported_after_retries():
    with LLMServer() as server:
        server.script(reply("late", delay=1.5), reply("late", delay=1.5))
        llm = provider(server, timeout=0.3, retries=1)
        with pytest.raises(EndpointTimeout) as info:   # a client that waited would get "late"
            llm.complete(REQUEST)
    assert info.value.code == "E602" and info.value.exit_code == 5
    assert "0.3 s" in str(info.value)
    assert len(server.requests) == 2


@pytest.mark.parametrize("body, words", [
    ("<html>this is not json</html>", "not JSON"),
    (json.dumps({"choices": []}), "no choices"),
    (json.dumps({"choices": [{"message": {"role": "assistant"}}]}), "no message text"),
])
def test_malformed_bodies(body, words):
    with LLMServer() as server:
        server.script(malformed(body))
        with pytest.raises(MalformedReply) as info:
            provider(server).complete(REQUEST)
    assert words in str(info.value)
    assert info.value.code == "E604" and info.value.exit_code == 7


def test_truncated_reply_is_refused():
    with LLMServer() as server:
        server.script(reply("for name in objects:\n    put_first_on_second(name,", finish_reason="length"))
        with pytest.raises(TruncatedReply) as info:
            provider(server).complete(REQUEST)
    assert info.value.code == "E605" and info.value.exit_code == 8
    assert "put_first_on_second(name," in info.value.partial


def test_unreachable_endpoint():
    with LLMServer() as server:
        url = server.base_url
    llm = OpenAIProvider(model="m", base_url=url, api_key="k", timeout=2, retries=1, sleep=lambda s: None)
    with pytest.raises(EndpointUnreachable) as info:
        llm.complete(REQUEST)
    assert info.value.code == "E601" and info.value.exit_code == 4


def test_exit_codes_are_distinct():
    kinds = [EndpointUnreachable, EndpointTimeout, EndpointHTTPError, MalformedReply, TruncatedReply]
    assert len({k.exit_code for k in kinds}) == len(kinds)
    assert all(k.exit_code not in (0, 1, 2, 3) for k in kinds)


def test_configuration_from_environment(monkeypatch):
    monkeypatch.delenv("CAPC_LLM_MODEL", raising=False)
    with pytest.raises(ProviderConfigError):
        OpenAIProvider.from_options()
    monkeypatch.setenv("CAPC_LLM_MODEL", "env-model")
    monkeypatch.setenv("CAPC_LLM_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("OPENAI_API_KEY", "env-key")
    llm = OpenAIProvider.from_options()
    assert (llm.model, llm.base_url, llm.api_key) == ("env-model", "http://127.0.0.1:9/v1", "env-key")
    assert OpenAIProvider.from_options(model="flag-model").model == "flag-model"


def test_retry_after_forms():
    assert retry_after_seconds("3") == 3.0
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == pytest.approx(10.0)
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None


def test_strip_fences_cases():
    assert strip_fences("say('a')\n") == "say('a')"
    assert strip_fences("```\nsay('a')\n```") == "say('a')"
    assert strip_fences("~~~py\nx = 1\n~~~") == "x = 1"
    assert strip_fences("```python\nx = 1\n") == "x = 1"  # unclosed: cut-off reply
    assert strip_fences("text\n````python\nx = '```'\n````\n") == "x = '```'"


def test_record_then_replay_reproduces_the_run(tmp_path):
    path = str(tmp_path / "c.jsonl")
    with LLMServer() as server:
        server.script(reply("```python\nsay('recorded')\n```"))
        recorder = RecordingProvider(provider(server), path)
        live = recorder.complete(REQUEST)
    (entry,) = load_cassette(path)
    assert entry.key == request_key(REQUEST) and entry.meta["query"] == "wave"
    replay = ReplayProvider(path)
    assert replay.model == "test-model"
    assert replay.complete(REQUEST) == live


def test_replay_miss_names_the_instruction(tmp_path):
    path = str(tmp_path / "c.jsonl")
    with LLMServer() as server:
        server.script(reply("say('x')"))
        RecordingProvider(provider(server), path).complete(REQUEST)
    other = Request("test-model", (("user", "# query: \"dance\""),), meta={"lmp": "policy", "query": "dance"})
    with pytest.raises(CassetteMiss) as info:
        ReplayProvider(path).complete(other)
    assert "'dance'" in str(info.value) and info.value.code == "E607" and info.value.exit_code == 2


def test_truncated_reply_is_recorded_and_refused_again_on_replay(tmp_path):
    path = str(tmp_path / "c.jsonl")
    with LLMServer() as server:
        server.script(reply("move_to(", finish_reason="length"))
        with pytest.raises(TruncatedReply):
            RecordingProvider(provider(server), path).complete(REQUEST)
    with pytest.raises(TruncatedReply):
        ReplayProvider(path).complete(REQUEST)


def test_key_ignores_meta_but_not_the_prompt():
    same = Request(REQUEST.model, REQUEST.messages, stop=REQUEST.stop, meta={"attempt": 5})
    changed = Request(REQUEST.model, REQUEST.messages[:1], stop=REQUEST.stop)
    assert request_key(same) == request_key(REQUEST) != request_key(changed)


def test_broken_cassette_line_is_located(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"key": "a", "request": {}, "reply": {"text": "x"}}\nnot json\n')
    from capc.diagnostics import InputError
    with pytest.raises(InputError) as info:
        ReplayProvider(str(path))
    assert info.value.diagnostic.span.line == 2 and info.value.code == "E608"


def test_temperature_is_sent_and_is_part_of_the_key(tmp_path):
    from capc.prompts import prompt_builder as pb
    from capc.prompts.generate import Generator
    with LLMServer() as server:
        server.script(reply("say('warm')"))
        llm = provider(server, temperature=0.7)
        recorder = RecordingProvider(llm, str(tmp_path / "c.jsonl"))
        Generator(recorder, ["red block"]).ask(pb.policy_prompt("wave", ["red block"]))
    assert server.requests[0]["temperature"] == 0.7
    cold = Generator(ReplayProvider(str(tmp_path / "c.jsonl")), ["red block"])
    with pytest.raises(CassetteMiss):
        cold.ask(pb.policy_prompt("wave", ["red block"]))
    warm = Generator(ReplayProvider(str(tmp_path / "c.jsonl"), temperature=0.7), ["red block"])
    assert warm.ask(pb.policy_prompt("wave", ["red block"])).text == "say('warm')"


def test_capc_own_alarm_inside_the_client_is_not_retried_as_a_network_failure():
    from capc.diagnostics import CapcError
    from capc.guard import wall_clock_alarm
    with LLMServer() as server:
        server.script(reply("late", delay=2.0), reply("late", delay=2.0))
        llm = provider(server, timeout=10, retries=3)
        llm._get_client()  # the import of openai is not what we time
        with pytest.raises(CapcError) as info:
            with wall_clock_alarm(0.5) as armed:
                assert armed
                llm.complete(REQUEST)
    # the alarm ended the first request (2 s late); a retry would have shown as a second one
    assert info.value.code == "E480" and len(server.requests) == 1
