"""The answer of a check (`capc.Report`, docs/api.md), what `capc check --json` prints, and
of a run (`capc.RunResult`), what `capc run --json` prints.

Its own module, below the commands and the library (capc/api.py), so that both can build it
without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from capc.diagnostics import Diagnostic

# The verdicts a Report can carry and the exit code `capc check` gives each. "error" is an
# input error (a missing or malformed file) as `capc check --json` reports it; the library
# raises InputError instead.
VERDICTS = {"checked": 0, "accepted": 0, "guarded": 3, "rejected": 1, "error": 2}

# The version of the JSON `Report.to_json` gives (and `capc check --json` prints), described by
# capc/schemas/check.schema.json. It changes when a key changes meaning or goes away; new keys
# may be added within a version.
JSON_VERSION = 1
JSON_SCHEMA = "check.schema.json"
RUN_JSON_VERSION = 1   # of RunResult.to_json (capc/schemas/run.schema.json)


@dataclass(frozen=True)
class Report:
    """What `capc.check` found out about one policy.

    `verdict` is "accepted" (every motion proved safe), "guarded" (some command is checked by
    the runtime monitor only), "rejected" (the policy is wrong or unsafe) or "checked" (the
    front end accepted; `verify=False` asked for no safety verdict). `diagnostics` carry
    spans (`d.span.line`, `d.span.col`, ...), codes, hints and counterexamples.
    `verification` and `obligations` are there once the verifier ran (None otherwise), and
    `undefined` once the front end accepted the program."""

    file: str
    verdict: str
    diagnostics: tuple[Diagnostic, ...]
    any_scene: bool
    undefined: tuple[str, ...] | None = None
    verification: dict[str, Any] | None = None
    obligations: tuple[dict[str, Any], ...] | None = None
    # Any further key a command adds to its result (kept, so --json never loses one)
    more: tuple[tuple[str, Any], ...] = ()

    @property
    def ok(self) -> bool:
        """True when nothing stops the policy from running (accepted, guarded or checked)."""
        return self.verdict != "rejected"

    @property
    def exit_code(self) -> int:
        """The exit code `capc check` gives this verdict (0, 3 or 1)."""
        return VERDICTS[self.verdict]

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.kind != "warning")

    @property
    def warnings(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.kind == "warning")

    @property
    def counterexamples(self) -> tuple[dict[str, Any], ...]:
        """Each solver counterexample, as the diagnostic that carries it has it."""
        return tuple(d.counterexample for d in self.diagnostics if d.counterexample)

    @property
    def guards(self) -> tuple[dict[str, Any], ...]:
        """The commands the runtime monitor checks because the verifier could not decide them."""
        return tuple((self.verification or {}).get("guards") or ())

    def to_json(self) -> dict[str, Any]:
        """The object `capc check --json` prints for the same policy and world (same keys,
        same order). Every outcome has every key (null where a stage did not run), and
        `json_version` says which version of capc/schemas/check.schema.json it follows."""
        out: dict[str, Any] = {"json_version": JSON_VERSION, "file": self.file, "verdict": self.verdict,
                               "diagnostics": [d.to_json() for d in self.diagnostics],
                               "undefined": list(self.undefined) if self.undefined is not None else None,
                               "any_scene": self.any_scene,
                               "verification": self.verification,
                               "obligations": list(self.obligations) if self.obligations is not None else None}
        out.update(self.more)
        return out

    @classmethod
    def input_error(cls, file: str, error: Any, any_scene: bool = False) -> "Report":
        """The report `capc check --json` prints when a file it was given is unusable
        (`error` is the InputError): verdict "error", exit code 2."""
        return cls(file=file, verdict="error", diagnostics=(error.diagnostic,), any_scene=any_scene)

    @classmethod
    def from_result(cls, result: Any) -> "Report":
        """The report of a `capc.commands.check.CheckResult` (what the command works on)."""
        extra = result.extra
        obligations = extra.get("obligations")
        return cls(file=result.file, verdict=result.verdict,
                   diagnostics=tuple(result.diagnostics),
                   any_scene=bool(extra.get("any_scene")),
                   undefined=(tuple(u.name for u in result.program.undefined)
                              if result.program is not None else None),
                   verification=extra.get("verification"),
                   obligations=tuple(obligations) if obligations is not None else None,
                   more=tuple((k, v) for k, v in extra.items() if k not in _KNOWN_KEYS))


@dataclass(frozen=True)
class RunResult:
    """What `capc.run` and `capc run` did: the verdict reached first (`check`, a Report) and,
    unless nothing ran, how the run went (`outcome`, a capc.runtime.execute.RunOutcome:
    status, monitor events, final object positions, task result). `to_json()` is the object
    `capc run --json` prints (capc/schemas/run.schema.json)."""

    check: Report
    backend: str
    outcome: Any = None
    scene: str | None = None          # the scene file, or the description of the scene run in
    mode: str | None = None           # the context verified in: scene | any_scene (default: the report's)
    generated: dict[str, Any] | None = None   # `-i`: policy, parts, assembled, stage
    mcap: str | None = None           # where `--record-mcap` wrote the run

    @property
    def verdict(self) -> str:
        return self.check.verdict

    @property
    def ok(self) -> bool:
        """The run ran to completion (nothing stopped it); False when nothing ran."""
        return self.outcome is not None and bool(self.outcome.ok)

    @property
    def diagnostics(self) -> tuple[Diagnostic, ...]:
        """The check's diagnostics, then why the run stopped (if it did)."""
        stopped = self.outcome.diagnostic if self.outcome is not None else None
        return self.check.diagnostics + ((stopped,) if stopped is not None else ())

    def to_json(self) -> dict[str, Any]:
        """The object `capc run --json` prints: every key of capc/schemas/run.schema.json."""
        generated = self.generated or {}
        return {"json_version": RUN_JSON_VERSION, "file": self.check.file, "scene": self.scene,
                "backend": self.backend, "mode": self.mode or (self.check.verification or {}).get("mode"),
                "policy": generated.get("policy"), "parts": generated.get("parts"),
                "assembled": generated.get("assembled"), "stage": generated.get("stage"),
                "verdict": self.verdict, "diagnostics": [d.to_json() for d in self.diagnostics],
                "run": self.outcome.to_json() if self.outcome is not None else None, "mcap": self.mcap}


_KNOWN_KEYS = frozenset({"any_scene", "verification", "obligations"})


def json_schema() -> dict[str, Any]:
    """The JSON Schema of `Report.to_json()` / `capc check --json` (shipped in the package)."""
    import json

    return json.loads((Path(__file__).parent / "schemas" / JSON_SCHEMA).read_text(encoding="utf-8"))
