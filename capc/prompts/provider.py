"""One interface for every language model capc talks to, and the ways talking can fail.

A provider turns a `Request` (model, chat messages, temperature, stop sequences) into a
`Reply(text, finish_reason, raw)`. `text` is the code the model wrote with any markdown fence
removed; `raw` is the model's message as it arrived (kept for cassettes and the audit store).

Every failure has its own error code and its own exit code, so a script can tell "the endpoint
is down" from "the model's answer was cut off":

| code | exit | failure |
| E601 | 4 | cannot connect to the endpoint |
| E602 | 5 | the endpoint did not answer within the timeout (after retries) |
| E603 | 6 | the endpoint answered with an HTTP error (after retries for 429/5xx) |
| E604 | 7 | the body is not a chat completion (malformed JSON, no choices, no text) |
| E605 | 8 | the reply was cut off by the token limit (`finish_reason == "length"`): never run |
| E606 | 2 | provider misconfigured (no model, malformed base URL, no key for the public endpoint, unknown model) |
| E607 | 2 | replay: the cassette holds no reply for this request |
| E608 | 2 | a cassette file is not JSON lines of entries |

This module imports nothing heavy: the openai client is imported by `provider_openai` only
when a request is actually sent.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Protocol

from capc import codes
from capc.diagnostics import CapcError, Diagnostic, InputError


@dataclass(frozen=True)
class Request:
    """What is sent to the model. `meta` (which prompt, which instruction, which attempt) is
    for people and cassettes; it is not part of the request's identity."""

    model: str
    messages: tuple[tuple[str, str], ...]  # (role, content)
    temperature: float = 0.0
    stop: tuple[str, ...] = ()
    max_tokens: int | None = None
    meta: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def canonical(self) -> dict[str, Any]:
        """The fields that identify a request (the cassette key is a hash of this)."""
        return {
            "model": self.model,
            "messages": [{"role": r, "content": c} for r, c in self.messages],
            "temperature": self.temperature,
            "stop": list(self.stop),
        }

    def to_json(self) -> dict[str, Any]:
        data = self.canonical()
        if self.max_tokens is not None:
            data["max_tokens"] = self.max_tokens
        return data


@dataclass(frozen=True)
class Reply:
    text: str                 # code, fences stripped
    finish_reason: str | None
    raw: str                  # the message content exactly as the model sent it
    usage: dict | None = field(default=None, compare=False)  # the endpoint's token counts, if it sent them

    def to_json(self) -> dict[str, Any]:
        return {"text": self.text, "finish_reason": self.finish_reason, "raw": self.raw}


class LLMError(CapcError):
    """A failure talking to the model; each subclass has its own code and exit code."""

    code_value = codes.E600
    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None):
        super().__init__(Diagnostic(self.code_value, message, None, "llm", hint))


class EndpointUnreachable(LLMError):
    code_value, exit_code = codes.E601, 4


class EndpointTimeout(LLMError):
    code_value, exit_code = codes.E602, 5


class EndpointHTTPError(LLMError):
    code_value, exit_code = codes.E603, 6


class MalformedReply(LLMError):
    code_value, exit_code = codes.E604, 7


class TruncatedReply(LLMError):
    """The model stopped because it ran out of tokens: the code is incomplete and must not
    run, even if what arrived happens to parse."""

    code_value, exit_code = codes.E605, 8

    def __init__(self, message: str, partial: str = "", *, hint: str | None = None):
        super().__init__(message, hint=hint)
        self.partial = partial


class ProviderConfigError(InputError):
    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message, code=codes.E606, hint=hint)


class CassetteMiss(InputError):
    def __init__(self, message: str, hint: str | None = None, file: str | None = None):
        super().__init__(message, code=codes.E607, hint=hint, file=file)


class Provider(Protocol):
    name: str
    model: str

    def complete(self, request: Request) -> Reply: ...


_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})[ \t]*([\w+.-]*)[ \t]*$")


def strip_fences(text: str) -> str:
    """The code inside the first markdown fence, or the whole text when there is none.

    Chat models often wrap code in ```python ... ``` and add prose around it; the prose is
    dropped. An unclosed fence (a cut-off reply) keeps everything after the opening line."""
    lines = text.replace("\r\n", "\n").split("\n")
    for i, line in enumerate(lines):
        opening = _FENCE.match(line)
        if not opening:
            continue
        marker = opening.group(1)
        body = []
        for inner in lines[i + 1:]:
            closing = _FENCE.match(inner)
            if closing and closing.group(1).startswith(marker[0]) and len(closing.group(1)) >= len(marker) \
                    and not closing.group(2):
                break
            body.append(inner)
        return "\n".join(body).strip("\n")
    return text.strip("\n")


def reply_from_completion(body: str) -> Reply:
    """Parse an OpenAI chat-completion body; anything else is a `MalformedReply`."""
    snippet = body[:200].replace("\n", " ")
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):  # JSONDecodeError, int-digit limit, deep nesting
        raise MalformedReply(f"the endpoint's answer is not JSON: {snippet!r}",
                             hint="is the base URL an OpenAI-compatible /v1 endpoint?") from None
    choices = data.get("choices") if isinstance(data, dict) else None
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise MalformedReply(f"the endpoint's answer has no choices: {snippet!r}")
    message = choices[0].get("message")
    content = message.get("content") if isinstance(message, dict) else None
    finish = choices[0].get("finish_reason")
    if not isinstance(content, str):
        raise MalformedReply(f"the endpoint's answer has no message text: {snippet!r}")
    if finish is not None and not isinstance(finish, str):
        raise MalformedReply(f"finish_reason is not a string: {finish!r}")
    usage = data.get("usage")
    return Reply(strip_fences(content), finish, content, usage if isinstance(usage, dict) else None)


def check_reply(reply: Reply) -> Reply:
    """Refuse replies that must never be compiled or run."""
    if reply.finish_reason == "length":
        raise TruncatedReply(
            "the model's reply was cut off by the token limit (finish_reason 'length'); "
            "incomplete code is never compiled or run", reply.text,
            hint="raise --max-tokens or ask for a shorter policy")
    if not reply.text.strip():
        raise MalformedReply("the model replied with no code")
    return reply
