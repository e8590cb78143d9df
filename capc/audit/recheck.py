"""Re-verify stored programs with today's front end, verifier and resource limits.

"Would today's verifier decide the same?" For each stored record with a policy source, the
source is compiled again and verified in the record's own context: its safety spec (or a spec
given now, `spec_override`), its scene, its mode (scene / any_scene) and its profile, so a
verdict is "changed" only when capc's answer to the same question changed.

Speed (500 programs in well under a minute): one process, the front end and Z3 loaded once,
and each distinct (source, helpers, scene, spec, scene mode) compiled and verified once —
records of the same program in the same world share one result.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from capc import codes
from capc.limits import DEFAULT_LIMITS, ResourceLimits


@dataclass(frozen=True)
class RecheckResult:
    record_id: int
    old_verdict: str | None
    new_verdict: str              # accepted | guarded | rejected | error | skipped
    detail: str                   # first reason for a non-accepted verdict, or why skipped
    seconds: float
    cached: bool = False

    @property
    def changed(self) -> bool:
        return self.new_verdict != "skipped" and self.new_verdict != self.old_verdict

    def to_json(self) -> dict:
        return {"id": self.record_id, "old": self.old_verdict, "new": self.new_verdict,
                "changed": self.changed, "detail": self.detail,
                "seconds": round(self.seconds, 4), "cached": self.cached}


@dataclass
class RecheckSummary:
    results: list[RecheckResult] = field(default_factory=list)
    seconds: float = 0.0
    programs_verified: int = 0

    @property
    def changed(self) -> list[RecheckResult]:
        return [r for r in self.results if r.changed]

    def to_json(self) -> dict:
        return {"checked": sum(r.new_verdict != "skipped" for r in self.results),
                "skipped": sum(r.new_verdict == "skipped" for r in self.results),
                "programs_verified": self.programs_verified,
                "changed": [r.to_json() for r in self.changed],
                "seconds": round(self.seconds, 3),
                "results": [r.to_json() for r in self.results]}


def _load_tools():
    """The front end and verifier, imported on first use (they pull in lark and z3)."""
    try:
        from capc.compiler.frontend import compile_source
        from capc.safety.verifier import verify
    except ImportError as exc:
        from capc.diagnostics import InputError
        raise InputError(f"recheck needs the front end and the verifier, which are not "
                         f"available in this build ({exc})", code=codes.E291) from None
    return compile_source, verify


def any_scene(record: dict) -> bool:
    """Whether the stored verdict was reached in scene-free mode: the record's `mode` (schema
    3 on), else an explicit `any_scene` field or the verifier report's `mode`; a record with
    no scene was verified scene-free."""
    if record.get("mode"):
        return record["mode"] == "any_scene"
    if not record.get("scene"):
        return True
    extra = record.get("extra") or {}
    verification = extra.get("verification") if isinstance(extra.get("verification"), dict) else {}
    return bool(extra.get("any_scene")) or verification.get("mode") == "any_scene"


def _key(record: dict, spec_json: Any) -> str:
    extra = record.get("extra") or {}
    body = [record.get("source"), record.get("file"), extra.get("helpers"), record.get("scene"),
            spec_json, any_scene(record), record.get("profile"), extra.get("session") or ""]
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


class Rechecker:
    """Verifies records one by one, caching by program and world."""

    def __init__(self, *, spec_override=None, limits: ResourceLimits = DEFAULT_LIMITS):
        self.compile_source, self.verify = _load_tools()
        self.spec_override = spec_override
        self.limits = limits
        self.cache: dict[str, tuple[str, str]] = {}
        self.programs: dict[str, Any] = {}
        self.programs_verified = 0

    def _spec(self, record: dict):
        from capc.safety.spec import default_spec, parse_spec
        profile = record.get("profile") or "tabletop"
        if self.spec_override is not None:
            return self.spec_override
        stored = record.get("spec")
        if not stored:
            return default_spec(profile)
        return parse_spec(json.dumps(stored), file=f"<audit #{record['id']} limits>", profile=profile)

    def _scene(self, record: dict):
        from capc.compiler.scene import parse_scene
        stored = record.get("scene")
        if not stored:
            return None
        return parse_scene(json.dumps(stored), file=f"<audit #{record['id']} scene>")

    def _compile(self, source: str, file: str, helpers: dict, profile: str, session: str = ""):
        """Each distinct program is parsed once, however many worlds it is verified in.
        `session`: the earlier instructions' variables a shell or compile session compiled
        the policy with (capc.prompts.session)."""
        key = json.dumps([source, file, sorted(helpers.items()), profile, session], default=str)
        if key not in self.programs:
            from capc.diagnostics import CapcError
            try:
                self.programs[key] = self.compile_source(source, file, limits=self.limits,
                                                         helpers=helpers, profile=profile, session=session)
            except CapcError as exc:
                self.programs[key] = exc
        program = self.programs[key]
        if isinstance(program, Exception):
            raise program
        return program

    def _decide(self, record: dict) -> tuple[str, str]:
        from capc.diagnostics import CapcError
        extra = record.get("extra") or {}
        helpers = {name: tuple(value) for name, value in (extra.get("helpers") or {}).items()}
        try:
            spec, scene = self._spec(record), self._scene(record)
            program = self._compile(record["source"], record.get("file") or "<policy>", helpers,
                                    record.get("profile") or "tabletop", str(extra.get("session") or ""))
            report = self.verify(program, spec, scene, any_scene=any_scene(record),
                                 limits=self.limits)
        except CapcError as exc:
            verdict = "error" if exc.exit_code == 2 else "rejected"
            return verdict, f"{exc.code}: {exc.diagnostic.message}"
        self.programs_verified += 1
        detail = ""
        if report.verdict != "accepted":
            diagnostics = report.diagnostics()
            if diagnostics:
                detail = f"{diagnostics[0].code}: {diagnostics[0].message}"
        return report.verdict, detail

    def check(self, record: dict) -> RecheckResult:
        start = time.perf_counter()
        if not record.get("source"):
            return RecheckResult(record["id"], record.get("verdict"), "skipped",
                                 "no policy source stored", 0.0)
        spec_json = None if self.spec_override is None else self.spec_override.to_json()
        key = _key(record, spec_json)
        cached = key in self.cache
        if not cached:
            self.cache[key] = self._decide(record)
        verdict, detail = self.cache[key]
        return RecheckResult(record["id"], record.get("verdict"), verdict, detail,
                             time.perf_counter() - start, cached)


def recheck(records: Iterable[dict], *, spec_override=None, limits: ResourceLimits = DEFAULT_LIMITS,
            progress: Callable[[RecheckResult], None] | None = None) -> RecheckSummary:
    start = time.perf_counter()
    checker = Rechecker(spec_override=spec_override, limits=limits)
    summary = RecheckSummary()
    for record in records:
        result = checker.check(record)
        summary.results.append(result)
        if progress is not None:
            progress(result)
    summary.seconds = time.perf_counter() - start
    summary.programs_verified = checker.programs_verified
    return summary


# --- in parallel (capc.jobs) -----------------------------------------------------------------------

RECHECK_BATCH = 25      # distinct (program, world) keys per job


_NOT_SENT = ("attempts", "obligations", "run", "monitor_events", "diagnostics", "timings", "checksum")


def _portable(record: dict) -> dict:
    """The record without what a recheck never reads (attempts, obligations, the run), small
    enough to send to a worker; of `extra` only what `Rechecker` reads."""
    extra = record.get("extra") or {}
    verification = extra.get("verification") if isinstance(extra.get("verification"), dict) else {}
    out = {k: v for k, v in record.items() if k not in _NOT_SENT and k != "extra"}
    out["extra"] = {"helpers": extra.get("helpers"), "any_scene": extra.get("any_scene"),
                    "session": extra.get("session"), "verification": {"mode": verification.get("mode")}}
    return out


def recheck_job(payload: dict) -> dict:
    """One batch of records, each distinct program and world verified once."""
    from capc.safety.spec import parse_spec

    spec = payload.get("spec_override")
    checker = Rechecker(spec_override=parse_spec(json.dumps(spec), file="<--limits>") if spec else None)
    results = [checker.check(record).to_json() for record in payload["records"]]
    return {"results": results, "programs_verified": checker.programs_verified}


def recheck_parallel(records: Iterable[dict], *, spec_override=None, workers: int | None = None,
                     ray_address: str | None = None,
                     progress: Callable[[RecheckResult], None] | None = None) -> RecheckSummary:
    """`recheck` on capc.jobs: records of one program and world go to the same job (verified
    once, as in one process), batches of RECHECK_BATCH such groups per job. The results are
    the same as `recheck`'s, in record order."""
    from capc.jobs import run_jobs

    start = time.perf_counter()
    spec_json = None if spec_override is None else spec_override.to_json()
    groups: dict[str, list[dict]] = {}
    for record in records:
        groups.setdefault(_key(record, spec_json), []).append(_portable(record))
    keys = list(groups)
    jobs = [(str(i), {"records": [r for key in keys[i:i + RECHECK_BATCH] for r in groups[key]],
                      "spec_override": spec_json})
            for i in range(0, len(keys), RECHECK_BATCH)]
    summary = RecheckSummary()

    def collect(job) -> None:
        if not job.ok:
            raise RuntimeError(f"recheck batch {job.key} failed: {job.error}")
        summary.programs_verified += job.value["programs_verified"]
        for data in job.value["results"]:
            result = RecheckResult(data["id"], data["old"], data["new"], data["detail"], data["seconds"],
                                   data["cached"])
            summary.results.append(result)
            if progress is not None:
                progress(result)

    run_jobs("capc.audit.recheck:recheck_job", jobs, workers=workers, ray_address=ray_address, on_result=collect)
    summary.results.sort(key=lambda r: r.record_id)
    summary.seconds = time.perf_counter() - start
    return summary
