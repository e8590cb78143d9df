"""Configuration errors of the LLM layer fail at once with one line saying what to set; only
what waiting can fix is retried, and every wait is announced. No wall-clock bounds: the
tests count requests and waits."""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from llm_server import LLMServer, Scripted, rate_limited, reply  # noqa: E402

from capc.prompts.provider import EndpointHTTPError, EndpointUnreachable, ProviderConfigError, Request  # noqa: E402
from capc.prompts.provider_openai import OpenAIProvider, check_base_url, connection_failure  # noqa: E402

REQUEST = Request("test-model", (("user", "# query: \"wave\""),), meta={"lmp": "policy", "query": "wave"})


def capc(*args: str, env: dict | None = None, cwd: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "capc", *args], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=120)


def clean_env(tmp_path, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in ("OPENAI_API_KEY", "CAPC_LLM_BASE_URL", "CAPC_LLM_MODEL")}
    env.update(HOME=str(tmp_path), XDG_STATE_HOME=str(tmp_path / "state"),
               XDG_DATA_HOME=str(tmp_path / "data"), CAPC_AUDIT_DB=str(tmp_path / "audit.db"), **extra)
    return env


@pytest.mark.parametrize("url, words", [
    ("127.0.0.1:9", "has no http:// or https:// scheme"),
    ("localhost:8000/v1", "has no http:// or https:// scheme"),
    ("ftp://example.org/v1", "uses ftp://"),
    ("http:///v1", "names no host"),
    ("http://host:port/v1", "is malformed"),
])
def test_malformed_base_url_is_refused_before_any_request(url, words):
    with pytest.raises(ProviderConfigError) as info:
        OpenAIProvider.from_options(model="m", base_url=url, api_key="k")
    assert words in str(info.value)
    assert info.value.code == "E606" and info.value.exit_code == 2
    assert "CAPC_LLM_BASE_URL" in info.value.diagnostic.hint


def test_malformed_base_url_on_the_command_line_sends_nothing(tmp_path):
    with LLMServer() as server:
        host_port = server.base_url.split("://", 1)[1]     # the live server, scheme left out
        done = capc("compile", "-i", "wave", "--model", "m", "--base-url", host_port, env=clean_env(tmp_path))
    assert done.returncode == 2, done.stderr
    assert server.requests == []                           # nothing was sent, nothing retried
    assert "retrying" not in done.stderr
    (line,) = done.stderr.strip().splitlines()            # one line, naming the fix
    assert line.startswith("error[E606]") and f"http://{host_port}" in line


def test_missing_key_for_the_public_endpoint_names_the_variable(tmp_path, monkeypatch):
    for name in ("OPENAI_API_KEY", "CAPC_LLM_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ProviderConfigError) as info:
        OpenAIProvider.from_options(model="m")
    assert "OPENAI_API_KEY is not set" in str(info.value)
    # a local server needs no key: the placeholder is sent
    assert OpenAIProvider.from_options(model="m", base_url="http://127.0.0.1:9/v1").api_key == "no-key"
    done = capc("compile", "-i", "wave", "--model", "m", env=clean_env(tmp_path))
    assert done.returncode == 2
    (line,) = done.stderr.strip().splitlines()
    assert "OPENAI_API_KEY" in line and "retrying" not in done.stderr


def test_no_model_says_how_to_get_one(tmp_path):
    done = capc("compile", "-i", "wave", env=clean_env(tmp_path))
    assert done.returncode == 2
    (line,) = done.stderr.strip().splitlines()
    for way in ("--model", "CAPC_LLM_BASE_URL", "--cassette", "capc demo"):
        assert way in line


def test_unknown_model_is_one_request_and_a_configuration_error():
    not_found = Scripted(404, json.dumps({"error": {
        "message": "The model `gpt-9` does not exist or you do not have access to it.",
        "type": "invalid_request_error", "code": "model_not_found"}}))
    with LLMServer() as server:
        server.script(not_found)
        llm = OpenAIProvider(model="gpt-9", base_url=server.base_url, api_key="k", sleep=pytest.fail)
        with pytest.raises(ProviderConfigError) as info:
            llm.complete(Request("gpt-9", REQUEST.messages))
    assert len(server.requests) == 1 and llm.waits == []
    assert "does not serve the model 'gpt-9'" in str(info.value)
    assert "--model" in info.value.diagnostic.hint


def test_a_404_on_a_wrong_path_is_not_called_a_model_error():
    with LLMServer() as server:
        llm = OpenAIProvider(model="m", base_url=server.base_url.replace("/v1", "/api"), api_key="k",
                             sleep=pytest.fail)
        with pytest.raises(EndpointHTTPError) as info:
            llm.complete(REQUEST)
    assert info.value.code == "E603" and "/v1" in info.value.diagnostic.hint


def test_connection_refused_is_retried_with_each_wait_announced():
    with LLMServer() as server:
        url = server.base_url          # the port is closed once the server stops
    stream = io.StringIO()
    slept: list[float] = []
    llm = OpenAIProvider(model="m", base_url=url, api_key="k", retries=2, backoff=2.0,
                         sleep=slept.append, stream=stream)
    with pytest.raises(EndpointUnreachable) as info:
        llm.complete(REQUEST)
    assert llm.waits == [2.0, 4.0] and slept == [2.0, 4.0]
    assert stream.getvalue().splitlines() == ["retrying in 2 s (1/2): connection refused",
                                              "retrying in 4 s (2/2): connection refused"]
    assert "connection refused (3 attempts)" in str(info.value)


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_terminal_the_wait_counts_down_in_place():
    with LLMServer() as server:
        server.script(rate_limited(retry_after="2.5"), reply("say('ok')"))
        stream, slept = Terminal(), []
        llm = OpenAIProvider(model="m", base_url=server.base_url, api_key="k", sleep=slept.append, stream=stream)
        assert llm.complete(REQUEST).text == "say('ok')"
    assert slept == [0.5, 1.0, 1.0] and llm.waits == [2.5]
    shown = [part.replace("\x1b[K", "") for part in stream.getvalue().split("\r") if part.strip("\x1b[K")]
    assert shown == ["retrying in 3 s (1/3): HTTP 429 (rate limited)",
                     "retrying in 2 s (1/3): HTTP 429 (rate limited)",
                     "retrying in 1 s (1/3): HTTP 429 (rate limited)"]
    assert stream.getvalue().endswith("\r\x1b[K")   # the countdown line is cleared afterwards


def test_which_connection_failures_last():
    def failure(cause: BaseException) -> Exception:
        outer = ConnectionError("Connection error.")
        outer.__cause__ = cause
        return outer

    assert connection_failure(failure(ConnectionRefusedError(111, "refused"))) == ("connection refused", False)
    missing = connection_failure(failure(socket.gaierror(socket.EAI_NONAME, "Name or service not known")))
    assert missing[1] is True and "does not resolve" in missing[0]
    assert connection_failure(failure(socket.gaierror(socket.EAI_AGAIN, "Temporary failure")))[1] is False


def test_check_base_url_accepts_ordinary_endpoints():
    for url in ("http://127.0.0.1:8000/v1", "https://api.openai.com/v1", "http://[::1]:11434/v1"):
        assert check_base_url(url) == url
