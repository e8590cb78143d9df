"""A small OpenAI-compatible chat-completions server on 127.0.0.1 for tests.

Real HTTP (http.server in a thread, an ephemeral port), so the `openai` provider is tested
through the same client code a live endpoint would see. Each test scripts what the server
does, one entry per incoming request, in order:

    with LLMServer() as server:
        server.script(rate_limited(retry_after="1"), reply("move_to([0, -0.5])"))
        ... OpenAIProvider(base_url=server.base_url, ...) ...
        assert len(server.requests) == 2

An entry is a `Scripted` response or a callable `request_json -> Scripted` (to answer from the
prompt's content). Requests past the end of the script get a 500 that says so.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable


@dataclass(frozen=True)
class Scripted:
    status: int = 200
    body: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    delay: float = 0.0  # seconds to sleep before answering (timeouts)


def completion_body(text: str, finish_reason: str = "stop", model: str = "test-model") -> str:
    return json.dumps({
        "id": "chatcmpl-test", "object": "chat.completion", "created": 0, "model": model,
        "choices": [{"index": 0, "finish_reason": finish_reason,
                     "message": {"role": "assistant", "content": text}}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    })


def reply(text: str, finish_reason: str = "stop", delay: float = 0.0) -> Scripted:
    return Scripted(200, completion_body(text, finish_reason), delay=delay)


def rate_limited(retry_after: str | None = "1") -> Scripted:
    headers = (("Retry-After", retry_after),) if retry_after is not None else ()
    return Scripted(429, json.dumps({"error": {"message": "rate limit reached", "type": "rate_limit"}}),
                    headers)


def server_error(status: int = 500) -> Scripted:
    return Scripted(status, json.dumps({"error": {"message": "internal failure", "type": "server"}}))


def malformed(body: str = "<html>this is not json</html>") -> Scripted:
    return Scripted(200, body)


Entry = Scripted | Callable[[dict[str, Any]], Scripted]


def last_user_turn(request: dict[str, Any]) -> str:
    return next(m["content"] for m in reversed(request["messages"]) if m["role"] == "user")


def by_prompt(policies: list[str] | None = None, functions: dict[str, str] | None = None,
              answers: dict[str, str] | None = None) -> Callable[[dict[str, Any]], Scripted]:
    """A model that answers by prompt kind: the top-level policy prompt gets `policies` in order
    (the last one repeats), `# define function: NAME(...)` gets `functions[NAME]`, a sub-LMP
    query gets `answers[query]`. Anything else is a 500 that names the prompt."""
    policies = list(policies or [])
    functions = dict(functions or {})
    answers = dict(answers or {})
    served = {"policy": 0}

    def answer(request: dict[str, Any]) -> Scripted:
        turn = last_user_turn(request)
        if request["messages"][0]["content"].startswith("You write robot policies") and policies:
            index = min(served["policy"], len(policies) - 1)
            served["policy"] += 1
            return reply(policies[index])
        # The asked-for turn is the last user turn that states a query (repair turns follow it).
        asked = next((m["content"] for m in reversed(request["messages"]) if m["role"] == "user"
                      and ("# define function: " in m["content"] or "# query: " in m["content"])), turn)
        for line in asked.split("\n"):
            if line.startswith("# define function: "):
                name = line[len("# define function: "):].split("(")[0]
                if name in functions:
                    return reply(functions[name])
            if line.startswith("# query: "):
                query = json.loads(line[len("# query: "):])
                if query in answers:
                    return reply(answers[query])
        return Scripted(500, json.dumps({"error": {"message": f"test model has no answer for: {turn[-200:]}"}}))

    return answer


@dataclass
class LLMServer:
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    _script: list[Entry] = field(default_factory=list)
    fallback: Entry | None = None  # answers every request once the script is used up
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    def script(self, *entries: Entry) -> "LLMServer":
        with self._lock:
            self._script.extend(entries)
        return self

    @property
    def base_url(self) -> str:
        assert self._server is not None, "server not started"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def prompts(self) -> list[str]:
        """The text of all messages of each request received, joined (for assertions)."""
        return ["\n".join(m.get("content", "") for m in r.get("messages", [])) for r in self.requests]

    def _next(self, request: dict[str, Any]) -> Scripted:
        with self._lock:
            self.requests.append(request)
            entry = self._script.pop(0) if self._script else None
        if entry is None and self.fallback is not None:
            entry = self.fallback
        if entry is None:
            return Scripted(500, json.dumps({"error": {"message": "test server: script exhausted"}}))
        return entry(request) if callable(entry) else entry

    def __enter__(self) -> "LLMServer":
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                owner.headers.append({k.lower(): v for k, v in self.headers.items()})
                if self.path.rstrip("/") != "/v1/chat/completions":
                    self._send(Scripted(404, json.dumps({"error": {"message": f"no route {self.path}"}})))
                    return
                try:
                    request = json.loads(raw)
                except json.JSONDecodeError:
                    self._send(Scripted(400, json.dumps({"error": {"message": "request is not JSON"}})))
                    return
                answer = owner._next(request)
                if answer.delay:
                    time.sleep(answer.delay)
                self._send(answer)

            def _send(self, answer: Scripted):
                data = answer.body.encode("utf-8")
                try:
                    self.send_response(answer.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for key, value in answer.headers:
                        self.send_header(key, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout tests)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                                        daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()
