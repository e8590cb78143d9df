"""Replaying and recording conversations with a model (see `capc.prompts.cassette`).

`ReplayProvider` answers from a cassette: offline, no key, the same reply every time.
`RecordingProvider` wraps a live provider and appends each exchange to a cassette, so that any
run can be reproduced exactly offline with `--llm replay --cassette F`.

A request the cassette does not hold is an error that names the instruction (and the prompt
kind), never a silent fallback to something else. The one exception is opt-in
(`match_by_query=True`, used by `capc demo` only): when the prompt text changed since the
cassette was written, an entry recorded for the same prompt kind, query and attempt is used
and the drift is reported in `drifted`, so the demo keeps working and says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from capc.prompts.cassette import Entry, append_entry, load_cassette, make_entry, request_key
from capc.prompts.provider import CassetteMiss, Provider, Reply, Request, check_reply


def _meta_key(meta: dict) -> tuple:
    return (meta.get("lmp"), meta.get("query"), meta.get("attempt", 0), meta.get("round", 0))


class ReplayProvider:
    name = "replay"

    def __init__(self, path: str, model: str | None = None, *, match_by_query: bool = False,
                 temperature: float = 0.0):
        self.path = path
        self.temperature = temperature  # part of the key: replay with what was recorded
        self.entries: list[Entry] = load_cassette(path)
        self.by_key = {e.key: e for e in self.entries}
        self.by_meta = {_meta_key(e.meta): e for e in self.entries if e.meta}
        models = sorted({str(e.request.get("model")) for e in self.entries})
        # Without --model, replay under the model the cassette was recorded with.
        self.model = model or (models[0] if len(models) == 1 else "replay")
        self.match_by_query = match_by_query
        self.drifted: list[dict] = []
        self.used: list[Entry] = []

    def lookup(self, request: Request) -> Entry:
        entry = self.by_key.get(request_key(request))
        if entry is None and self.match_by_query:
            entry = self.by_meta.get(_meta_key(request.meta))
            if entry is not None:
                self.drifted.append(dict(request.meta))
        if entry is None:
            meta = request.meta
            what = meta.get("lmp", "prompt")
            query = meta.get("query")
            attempt = meta.get("attempt", 0)
            raise CassetteMiss(
                f"the cassette {self.path} has no reply for the {what} request"
                + (f" for {query!r}" if query is not None else "")
                + (f" (repair attempt {attempt})" if attempt else "")
                + f" with model {request.model!r}",
                hint=self._miss_hint())
        self.used.append(entry)
        return entry

    def complete(self, request: Request) -> Reply:
        return check_reply(self.lookup(request).reply)

    def _miss_hint(self) -> str:
        import os

        from capc.prompts import demo_script
        if os.path.abspath(self.path) == os.path.abspath(demo_script.CASSETTE):
            # the demo's replies fit the demo's scene and instructions only
            return ("the demo cassette answers the demo's instructions on the demo's scene: "
                    "use `capc shell --demo` or `capc demo`")
        return ("record one with --llm openai --record FILE, or check that the prompt, "
                "the scene and --model match the recording")


@dataclass
class RecordingProvider:
    """Passes requests to `inner` and appends every exchange (truncated replies too, so that
    the replay fails the same way) to the cassette at `path`."""

    inner: Provider
    path: str
    source: str = ""
    recorded: list[Entry] = field(default_factory=list)

    def __post_init__(self) -> None:
        # Checked before the first request: a reply paid for and then not kept is lost.
        import os
        from capc.files import check_output_dir, check_output_path
        check_output_dir(os.path.dirname(os.path.abspath(self.path)), "cassette folder")
        check_output_path(self.path, "cassette", example="session.jsonl")

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def model(self) -> str:
        return self.inner.model

    @property
    def temperature(self) -> float:
        return getattr(self.inner, "temperature", 0.0)

    def complete(self, request: Request) -> Reply:
        fetch = getattr(self.inner, "fetch", None)
        reply = fetch(request) if fetch is not None else self.inner.complete(request)
        source = self.source or f"recorded from {self.inner.model} via {self.inner.name}"
        entry = make_entry(request, reply, source)
        from capc.files import output_errors
        with output_errors(self.path, "cassette"):
            append_entry(self.path, entry)
        self.recorded.append(entry)
        return check_reply(reply)
