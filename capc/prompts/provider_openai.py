"""Any OpenAI-compatible chat-completions endpoint (OpenAI, vLLM, Ollama, llama.cpp, LM Studio).

The openai client does the HTTP; capc does the retries itself (the client's own are switched
off with `max_retries=0`) so that what happens on a 429 or a 500 is defined here and tested:

* retried: connection failures, timeouts, HTTP 408/409/429 and 5xx, at most `retries` times;
* the wait before a retry is the server's `Retry-After` (seconds or an HTTP date) when given,
  else `backoff * 2**attempt`; both capped at `max_backoff`;
* not retried: other 4xx (a bad key or an unknown model does not get better by asking again).

The body is parsed by `reply_from_completion` from the raw HTTP text, so a server that
answers with something that is not a chat completion gets a clear E604 instead of a
traceback from deep inside a client library.
"""

from __future__ import annotations

import email.utils
import os
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
    _client: Any = None

    @classmethod
    def from_options(cls, model: str | None = None, base_url: str | None = None,
                     api_key: str | None = None, **options: Any) -> "OpenAIProvider":
        """Flags first, then the environment (CAPC_LLM_MODEL, CAPC_LLM_BASE_URL, OPENAI_API_KEY)."""
        model = model or os.environ.get("CAPC_LLM_MODEL")
        if not model:
            raise ProviderConfigError("no model given for the openai provider",
                                      hint="pass --model or set CAPC_LLM_MODEL")
        base_url = base_url or os.environ.get("CAPC_LLM_BASE_URL") or DEFAULT_BASE_URL
        # Local servers (vLLM, Ollama, llama.cpp) accept any key; the client insists on one.
        api_key = api_key or os.environ.get("OPENAI_API_KEY") or "no-key"
        return cls(model=model, base_url=base_url, api_key=api_key, **options)

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
                failure = EndpointTimeout(
                    f"no answer from {where} within {self.timeout:g} s "
                    f"({attempt + 1} attempt{'s' if attempt else ''})",
                    hint="raise --timeout, or check that the server is not overloaded")
            except openai.APIConnectionError as exc:
                if isinstance(exc.__cause__, CapcError):
                    # capc's own wall-clock alarm fired inside the client (older openai clients
                    # wrap any exception of a request this way): not a network failure
                    raise exc.__cause__ from None
                failure = EndpointUnreachable(
                    f"cannot connect to {where}: {exc.__cause__ or exc}",
                    hint="check --base-url / CAPC_LLM_BASE_URL and that the server is running")
            except openai.APIStatusError as exc:
                status = exc.status_code
                detail = _error_detail(exc)
                failure = EndpointHTTPError(
                    f"{where} answered HTTP {status}" + (f": {detail}" if detail else "")
                    + (f" (after {attempt + 1} attempts)" if attempt else ""),
                    hint=_status_hint(status))
                if status not in RETRYABLE_STATUS:
                    raise failure from None
                wait_hint = retry_after_seconds(exc.response.headers.get("retry-after"))
            if attempt == self.retries:
                raise failure from None
            wait = wait_hint if wait_hint is not None else self.backoff * (2 ** attempt)
            wait = min(wait, self.max_backoff)
            self.waits.append(wait)
            self.sleep(wait)
        raise AssertionError("unreachable")  # the loop always returns or raises

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


def _status_hint(status: int) -> str | None:
    if status in (401, 403):
        return "check OPENAI_API_KEY (or the key your server expects)"
    if status == 404:
        return "check --model and that --base-url ends in /v1"
    if status == 429:
        return "the endpoint is rate-limiting: retry later or raise --retries"
    if status >= 500:
        return "the server failed; retry later or raise --retries"
    return None
