"""Cassettes: requests and the replies they got, one JSON object per line.

```json
{"key": "<sha256>", "request": {...canonical request...}, "reply": {"text", "finish_reason", "raw"},
 "meta": {"lmp": "policy", "query": "put the red block in the blue bowl", "attempt": 0},
 "source": "written by the capc authors" | "recorded from <model> at <base url>"}
```

The key is a hash of the canonical request (model, messages, temperature, stop), so a replay
answers exactly the conversation that was recorded: change a prompt, a few-shot example or
the API registry and the old entries no longer match (that is the point: the prompt and the
recording cannot silently drift apart).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from typing import Any, Iterable

from capc import codes
from capc.diagnostics import InputError, source_lines
from capc.files import read_text
from capc.prompts.provider import Reply, Request


def request_key(request: Request) -> str:
    canonical = json.dumps(request.canonical(), sort_keys=True, ensure_ascii=False,
                           separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Entry:
    key: str
    request: dict[str, Any]
    reply: Reply
    meta: dict[str, Any]
    source: str

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "request": self.request, "reply": self.reply.to_json(),
                "meta": self.meta, "source": self.source}


def make_entry(request: Request, reply: Reply, source: str) -> Entry:
    return Entry(request_key(request), request.to_json(), reply, dict(request.meta), source)


def load_cassette(path: str) -> list[Entry]:
    text = read_text(path, "cassette")
    entries = []
    for number, line in enumerate(source_lines(text), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            reply = data["reply"]
            entries.append(Entry(str(data["key"]), dict(data["request"]),
                                 Reply(str(reply["text"]), reply.get("finish_reason"),
                                       str(reply.get("raw", reply["text"]))),
                                 dict(data.get("meta") or {}), str(data.get("source", ""))))
        # ValueError covers JSONDecodeError and the int-digit limit of a 5000-digit number;
        # RecursionError is what json raises on very deep nesting: a cassette is untrusted.
        except (ValueError, RecursionError, KeyError, TypeError, AttributeError) as exc:
            raise InputError(f"line {number} is not a cassette entry ({type(exc).__name__}: {str(exc)[:120]})",
                             file=path, line=number, code=codes.E608,
                             hint="each line must be a JSON object with key, request and reply") from None
    return entries


def write_cassette(path: str, entries: Iterable[Entry]) -> None:
    """Write all entries (replacing the file), one line each, in the order given."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        for entry in entries:
            handle.write(json.dumps(entry.to_json(), ensure_ascii=False, sort_keys=True) + "\n")
    os.replace(tmp, path)


def append_entry(path: str, entry: Entry) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(entry.to_json(), ensure_ascii=False, sort_keys=True) + "\n")
