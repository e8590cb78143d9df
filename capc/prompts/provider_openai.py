"""Any OpenAI-compatible chat-completions endpoint (OpenAI, vLLM, Ollama, llama.cpp, LM Studio).

The openai client does the HTTP; capc does the retries itself (the client's own are switched
off with `max_retries=0`) so that what happens on a 429 or a 500 is defined here and tested:

* refused before any request (E606, exit 2, one line saying what to set): a base URL without
  `http://`/`https://` or without a host, and the public OpenAI endpoint without
  `OPENAI_API_KEY`; a 404 that names the model (`model_not_found`) is the same error at once;
* retried, because waiting can fix them: connection refused or reset, timeouts, a name that
  did not resolve *for now* (EAI_AGAIN), HTTP 408/409/429 and 5xx, at most `retries` times;
* the wait before a retry is the server's `Retry-After` (seconds or an HTTP date) when given,
  else `backoff * 2**attempt`; both capped at `max_backoff`. Each wait is announced on stderr
  (`retrying in 2 s (1/3): connection refused`), counting down in place on a terminal;
* not retried: other 4xx (a bad key does not get better by asking again) and a host name that
  does not exist.

The body is parsed by `reply_from_completion` from the raw HTTP text, so a server that
answers with something that is not a chat completion gets a clear E604 instead of a
traceback from deep inside a client library.
"""

from __future__ import annotations

import email.utils
import math
import os
import socket
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from capc.diagnostics import CapcError
from capc.prompts.provider import (
    EndpointHTTPError, EndpointTimeout, EndpointUnreachable, LLMError, ProviderConfigError,
    Reply, Request, check_reply, reply_from_completion,
)

RETRYABLE_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504})
DEFAULT_BASE_URL = "https://api.openai.com/v1"
PUBLIC_HOSTS = frozenset({"api.openai.com"})   # endpoints that refuse every request without a key
NO_KEY = "no-key"   # what local servers get: they accept any key, the client insists on one

# Where to get a model, said wherever capc finds none (the E606 hint).
HOW_TO_GET_A_MODEL = ("for an OpenAI-compatible server pass --model M and --base-url URL, or set "
                      "CAPC_LLM_MODEL and CAPC_LLM_BASE_URL; to replay a recording pass --cassette FILE; "
                      "`capc demo` and `capc shell --demo` need neither")


def check_base_url(url: str) -> str:
    """The URL if requests can be sent to it; else E606 naming what is wrong (no retries: a
    malformed URL does not get better by asking again)."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # a port that is not a number raises ValueError here
    except ValueError as exc:
        raise ProviderConfigError(f"the base URL {url!r} is malformed ({exc})",
                                  hint="set --base-url or CAPC_LLM_BASE_URL to e.g. http://127.0.0.1:8000/v1") from None
    if "://" not in url:
        raise ProviderConfigError(f"the base URL {url!r} has no http:// or https:// scheme",
                                  hint=f"set --base-url or CAPC_LLM_BASE_URL to http://{url}")
    if parts.scheme not in ("http", "https"):
        raise ProviderConfigError(f"the base URL {url!r} uses {parts.scheme}://, not http:// or https://",
                                  hint="set --base-url or CAPC_LLM_BASE_URL to an http:// or https:// address")
    if not host:
        raise ProviderConfigError(f"the base URL {url!r} names no host",
                                  hint="set --base-url or CAPC_LLM_BASE_URL to e.g. http://127.0.0.1:8000/v1")
    return url


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait according to a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


@dataclass
class OpenAIProvider:
    model: str
    base_url: str = DEFAULT_BASE_URL
    api_key: str | None = None
    timeout: float = 60.0
    retries: int = 3
    backoff: float = 1.0
    max_backoff: float = 30.0
    max_tokens: int | None = 1024
    temperature: float = 0.0     # what generation asks for (0: the same prompt, the same code)
    sleep: Callable[[float], None] = time.sleep
    name: str = "openai"
    waits: list[float] = field(default_factory=list)  # every wait taken, for logs and tests
    stream: Any = None           # where retries are announced (default: sys.stderr at the time)
    _client: Any = None

    @classmethod
    def from_options(cls, model: str | None = None, base_url: str | None = None,
                     api_key: str | None = None, **options: Any) -> "OpenAIProvider":
        """Flags first, then the environment (CAPC_LLM_MODEL, CAPC_LLM_BASE_URL, OPENAI_API_KEY)."""
        model = model or os.environ.get("CAPC_LLM_MODEL")
        if not model:
            raise ProviderConfigError("no model given", hint=HOW_TO_GET_A_MODEL)
        base_url = check_base_url(base_url or os.environ.get("CAPC_LLM_BASE_URL") or DEFAULT_BASE_URL)
        api_key = api_key or os.environ.get("OPENAI_API_KEY")
        if not api_key and _host(base_url) in PUBLIC_HOSTS:
            raise ProviderConfigError(
                f"OPENAI_API_KEY is not set, and {base_url} refuses requests without a key",
                hint="set OPENAI_API_KEY, or point --base-url / CAPC_LLM_BASE_URL at a local server")
        # Local servers (vLLM, Ollama, llama.cpp) accept any key; the client insists on one.
        return cls(model=model, base_url=base_url, api_key=api_key or NO_KEY, **options)

    def _get_client(self):
        if self._client is None:
            import openai  # costs ~0.4 s: only when a request is actually sent
            self._client = openai.OpenAI(base_url=self.base_url, api_key=self.api_key,
                                         timeout=self.timeout, max_retries=0)
        return self._client

    def fetch(self, request: Request) -> Reply:
        """One completion with retries; the reply is not yet checked for truncation."""
        import openai

        client = self._get_client()
        kwargs: dict[str, Any] = {
            "model": request.model,
            "messages": [{"role": r, "content": c} for r, c in request.messages],
            "temperature": request.temperature,
        }
        if request.stop:
            kwargs["stop"] = list(request.stop)
        max_tokens = request.max_tokens if request.max_tokens is not None else self.max_tokens
        if max_tokens is not None:
            kwargs["max_tokens"] = max_tokens
        where = self.base_url
        for attempt in range(self.retries + 1):
            failure: LLMError
            wait_hint: float | None = None
            try:
                raw = client.chat.completions.with_raw_response.create(**kwargs)
                return reply_from_completion(raw.http_response.text)
            except openai.APITimeoutError:
                reason = f"no answer within {self.timeout:g} s"
                failure = EndpointTimeout(
                    f"no answer from {where} within {self.timeout:g} s "
                    f"({attempt + 1} attempt{'s' if attempt else ''})",
                    hint="raise --timeout, or check that the server is not overloaded")
            except openai.APIConnectionError as exc:
                if isinstance(exc.__cause__, CapcError):
                    # capc's own wall-clock alarm fired inside the client (older openai clients
                    # wrap any exception of a request this way): not a network failure
                    raise exc.__cause__ from None
                reason, lasting = connection_failure(exc)
                failure = EndpointUnreachable(
                    f"cannot connect to {where}: {reason}"
                    + (f" ({attempt + 1} attempts)" if attempt else ""),
                    hint="check --base-url / CAPC_LLM_BASE_URL and that the server is running")
                if lasting:
                    raise failure from None
            except openai.APIStatusError as exc:
                status = exc.status_code
                detail = _error_detail(exc)
                if status == 404 and _names_model(exc, detail):
                    raise ProviderConfigError(
                        f"{where} does not serve the model {request.model!r}" + (f": {detail}" if detail else ""),
                        hint="set --model or CAPC_LLM_MODEL to a model the server lists at /v1/models") from None
                reason = f"HTTP {status}" + (" (rate limited)" if status == 429 else "")
                failure = EndpointHTTPError(
                    f"{where} answered HTTP {status}" + (f": {detail}" if detail else "")
                    + (f" (after {attempt + 1} attempts)" if attempt else ""),
                    hint=_status_hint(status, self.api_key))
                if status not in RETRYABLE_STATUS:
                    raise failure from None
                wait_hint = retry_after_seconds(exc.response.headers.get("retry-after"))
            if attempt == self.retries:
                raise failure from None
            wait = wait_hint if wait_hint is not None else self.backoff * (2 ** attempt)
            self._wait(min(wait, self.max_backoff), attempt, reason)
        raise AssertionError("unreachable")  # the loop always returns or raises

    def _wait(self, wait: float, attempt: int, reason: str) -> None:
        """Sleep before retry `attempt + 1`, saying so on stderr: one line, or on a terminal a
        line that counts the seconds down in place (a silent wait looks like a hang)."""
        self.waits.append(wait)
        stream = self.stream if self.stream is not None else sys.stderr

        def line(left: float) -> str:
            return f"retrying in {left:g} s ({attempt + 1}/{self.retries}): {reason}"

        try:
            live = stream.isatty()
        except (AttributeError, ValueError):
            live = False
        if not live:
            print(line(round(wait, 1)), file=stream, flush=True)
            self.sleep(wait)
            return
        left = wait
        while left > 0:
            print("\r" + line(math.ceil(left)) + "\x1b[K", end="", file=stream, flush=True)
            step = left - math.floor(left) or min(1.0, left)   # land on whole seconds
            self.sleep(step)
            left = round(left - step, 6)
        print("\r\x1b[K", end="", file=stream, flush=True)

    def complete(self, request: Request) -> Reply:
        return check_reply(self.fetch(request))


def _error_detail(exc: Any) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        error = body.get("error") if isinstance(body.get("error"), dict) else body
        if error.get("message"):
            return str(error["message"])[:200]
    text = getattr(exc.response, "text", "") or ""
    return text[:200].replace("\n", " ")


def _host(url: str) -> str:
    from urllib.parse import urlsplit

    return (urlsplit(url).hostname or "").lower()


def connection_failure(exc: BaseException) -> tuple[str, bool]:
    """(what went wrong in a few words, whether it lasts): a refused or reset connection, or
    a name server that cannot answer now, may be gone in a second; a host name that does not
    exist, or a URL the client cannot use, will not."""
    seen = exc
    while seen is not None:
        if isinstance(seen, ConnectionRefusedError):
            return "connection refused", False
        if isinstance(seen, ConnectionResetError):
            return "connection reset", False
        if isinstance(seen, socket.gaierror):
            if seen.errno == socket.EAI_AGAIN:
                return "the host name cannot be resolved right now", False
            return f"the host name does not resolve ({seen.strerror or seen})", True
        if type(seen).__name__ in ("UnsupportedProtocol", "InvalidURL"):
            return str(seen), True
        seen = seen.__cause__ or seen.__context__
    return str(exc.__cause__ or exc), False


def _names_model(exc: Any, detail: str) -> bool:
    """Is this 404 about the model (OpenAI's `model_not_found`, vLLM's and Ollama's "model
    ... does not exist / not found") rather than a wrong path?"""
    body = getattr(exc, "body", None)
    error = body.get("error") if isinstance(body, dict) and isinstance(body.get("error"), dict) else body
    if isinstance(error, dict) and error.get("code") == "model_not_found":
        return True
    return "model" in detail.lower()


def _status_hint(status: int, api_key: str | None = None) -> str | None:
    if status in (401, 403):
        if api_key in (None, NO_KEY):
            return "set OPENAI_API_KEY to the key this server expects"
        return "check OPENAI_API_KEY (or the key your server expects)"
    if status == 404:
        return "check --model and that --base-url ends in /v1"
    if status == 429:
        return "the endpoint is rate-limiting: retry later or raise --retries"
    if status >= 500:
        return "the server failed; retry later or raise --retries"
    return None
