"""The audit store: every compile, check and run, kept in one SQLite file.

What a user must be able to answer later: what did the model write for this instruction, why
was it rejected, what world breaks it, did it run, did the monitor step in, and would today's
verifier decide the same. So one *record* per compile/check/run holds the inputs (instruction,
scene, safety spec, resource limits, provider/model/parameters, every request and raw reply),
every attempt's policy source (repairs point at the attempt they repair), the IR hash, the
verdict with every obligation (verdict, span, counterexample), the run outcome with the
monitor's interventions, and the time each stage took.

Storage choices, and why:

* stdlib `sqlite3` in WAL mode: readers never block the writer, concurrent `capc` processes
  serialise their short write transactions through SQLite's lock (`busy_timeout`), and a
  process killed mid-write leaves the last committed state (the WAL is only applied once
  complete). `synchronous=NORMAL` is enough for that: it keeps every commit across a process
  crash; only an OS crash could lose the last few.
* One record = one `BEGIN IMMEDIATE ... COMMIT` over `records`, `attempts`, `obligations`.
* A SHA-256 of each record's canonical JSON sits beside it, so "intact" is checkable.
* The schema is versioned with `PRAGMA user_version`; `MIGRATIONS` lifts an older store on
  open, in one transaction, keeping every record (version 1 was a single table with a JSON
  payload, see tests/fixtures/make_audit_v1.py; version 3 added each verdict's mode and
  profile beside its scene and spec, the context `capc audit recheck` verifies in).
* Recording never gets in the way: `record_safely` swallows every failure, waits at most
  `SAFE_BUSY_SECONDS` for the lock, and says once per process on stderr that the store was
  not written.

This module imports only the standard library at top level (`capc check` must stay fast);
pictures and exports live in `plot.py` and `export.py` beside it.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import hashlib
import json
import math
import os
import re
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

from capc import codes
from capc import __version__
from capc.diagnostics import InputError

SCHEMA_VERSION = 3
DEFAULT_BUSY_SECONDS = 10.0   # interactive commands (`capc audit ...`) may wait this long
SAFE_BUSY_SECONDS = 2.0       # recording from a compile never waits longer than this
VERDICTS = ("accepted", "guarded", "rejected")
ENV_DB = "CAPC_AUDIT_DB"      # a path, or "off" to disable recording

# Columns of `records` that hold a JSON document, and the record keys they come from.
_JSON_COLUMNS = ("params", "scene", "spec", "limits", "diagnostics", "run", "monitor_events",
                 "timings", "extra")
_TEXT_COLUMNS = ("created_at", "capc_version", "kind", "parent_id", "instruction", "file",
                 "source", "ir_hash", "verdict", "run_status", "provider", "model")
# Added in version 3: the verification context beside `scene` and `spec`. A record written
# before has neither; its checksum leaves them out while they are unknown (None).
_CONTEXT_COLUMNS = ("mode", "profile")

SCHEMA_V2 = """
CREATE TABLE records (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at    TEXT NOT NULL,            -- ISO 8601 UTC, sortable as text
    capc_version  TEXT,
    kind          TEXT NOT NULL,            -- check | run | compile | shell | demo | ...
    parent_id     INTEGER REFERENCES records(id),
    instruction   TEXT,
    file          TEXT,
    source        TEXT,                     -- the policy of the final attempt
    ir_hash       TEXT,
    verdict       TEXT,                     -- accepted | guarded | rejected | error | NULL
    run_status    TEXT,                     -- completed | stopped_by_monitor | ... | NULL
    provider      TEXT,
    model         TEXT,
    params        TEXT,
    scene         TEXT,
    spec          TEXT,                     -- the safety limits the verdict was reached under
    limits        TEXT,                     -- the resource limits
    diagnostics   TEXT,
    run           TEXT,
    monitor_events TEXT,
    timings       TEXT,
    extra         TEXT,
    checksum      TEXT NOT NULL             -- sha256 of the record's canonical JSON
);
CREATE INDEX records_created ON records(created_at);
CREATE INDEX records_verdict ON records(verdict);
CREATE INDEX records_kind ON records(kind);
CREATE INDEX records_ir_hash ON records(ir_hash);
CREATE TABLE attempts (
    record_id   INTEGER NOT NULL REFERENCES records(id) ON DELETE CASCADE,
    idx         INTEGER NOT NULL,
    parent_idx  INTEGER,                    -- the attempt this one repairs
    file        TEXT,
    source      TEXT,
    ir_hash     TEXT,
    verdict     TEXT,
    request     TEXT,                       -- JSON: what was sent to the model
    reply       TEXT,                       -- the raw reply text
    diagnostics TEXT,
    extra       TEXT,                       -- JSON: anything else (e.g. every exchange of a
                                            -- hierarchical generation)
    PRIMARY KEY (record_id, idx)
);
CREATE TABLE obligations (
    record_id      INTEGER NOT NULL REFERENCES records(id) ON DELETE CASCADE,
    idx            INTEGER NOT NULL,
    obligation_id  TEXT,
    primitive      TEXT,
    role           TEXT,
    property       TEXT,
    verdict        TEXT,                    -- proved | violated | unknown
    line           INTEGER,
    col            INTEGER,
    span           TEXT,
    counterexample TEXT,
    message        TEXT,
    extra          TEXT,                    -- JSON: the verifier's other fields (code, callers, ...)
    PRIMARY KEY (record_id, idx)
);
CREATE INDEX obligations_verdict ON obligations(verdict);
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
"""


# --- where the store lives ------------------------------------------------------------------

def default_path() -> Path:
    """`$CAPC_HOME/audit.db`, else `$XDG_STATE_HOME/capc/audit.db`, else
    `~/.local/state/capc/audit.db`."""
    if os.environ.get("CAPC_HOME"):
        return Path(os.environ["CAPC_HOME"]) / "audit.db"
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "capc" / "audit.db"


def resolve_path(path: str | os.PathLike | None = None) -> Path:
    """An explicit path (`--audit-db`) wins, then `$CAPC_AUDIT_DB`, then `default_path()`."""
    if path is not None:
        return Path(path)
    env = os.environ.get(ENV_DB)
    if env and env.lower() != "off":
        return Path(env)
    return default_path()


def recording_disabled() -> bool:
    return os.environ.get(ENV_DB, "").lower() == "off"


# --- turning whatever a command has into JSON ----------------------------------------------

def to_jsonable(value: Any, _depth: int = 0) -> Any:
    """JSON-safe copy of `value`: objects with `to_json()`, dataclasses, numpy arrays and
    scalars, tuples, sets. Non-finite floats become strings (JSON has none); anything else
    becomes its repr, so a record can always be written."""
    if _depth > 64:
        return repr(value)
    if value is None or isinstance(value, (bool, str, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v, _depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=repr) if isinstance(value, (set, frozenset)) else value
        return [to_jsonable(v, _depth + 1) for v in items]
    to_json = getattr(value, "to_json", None)
    if callable(to_json):
        return to_jsonable(to_json(), _depth + 1)
    tolist = getattr(value, "tolist", None)   # numpy arrays and scalars
    if callable(tolist):
        return to_jsonable(tolist(), _depth + 1)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name), _depth + 1)
                for f in dataclasses.fields(value)}
    return repr(value)


def _dumps(value: Any) -> str | None:
    return None if value is None else json.dumps(to_jsonable(value), sort_keys=True,
                                                 ensure_ascii=False)


def _loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def ir_hash(program: Any) -> str:
    """SHA-256 of a program's IR with spans left out: two programs that differ only in
    layout or comments hash the same."""
    def walk(node: Any, depth: int = 0) -> Any:
        if depth > 200:
            return "…"
        if dataclasses.is_dataclass(node) and not isinstance(node, type):
            return [type(node).__name__] + [[f.name, walk(getattr(node, f.name), depth + 1)]
                                            for f in dataclasses.fields(node)
                                            if f.name not in ("span", "source", "file")]
        if isinstance(node, Mapping):
            return [[str(k), walk(v, depth + 1)] for k, v in sorted(node.items(), key=lambda kv: str(kv[0]))]
        if isinstance(node, (list, tuple)):
            return [walk(v, depth + 1) for v in node]
        return repr(node)
    text = json.dumps(walk(program), separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def now_iso() -> str:
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _normalize_span(span: Any) -> dict | None:
    span = to_jsonable(span)
    if not isinstance(span, dict):
        return None
    return {k: span.get(k) for k in ("file", "line", "col", "end_line", "end_col") if k in span}


def _normalize_obligation(raw: Any) -> dict:
    ob = to_jsonable(raw)
    if not isinstance(ob, dict):
        ob = {"message": str(ob)}
    span = _normalize_span(ob.get("span"))
    if span is None and ob.get("line") is not None:
        span = {"file": ob.get("file"), "line": ob.get("line"), "col": ob.get("col")}
    handled = {"id", "primitive", "role", "step", "property", "verdict", "span", "counterexample",
               "message", "line", "col", "file"}
    extra = {k: v for k, v in ob.items() if k not in handled}
    return {
        "id": None if ob.get("id") is None else str(ob.get("id")),
        "primitive": ob.get("primitive"),
        "role": ob.get("role", ob.get("step")),
        "property": ob.get("property"),
        "verdict": ob.get("verdict"),
        "span": span,
        "counterexample": ob.get("counterexample"),
        "message": ob.get("message"),
        "extra": extra or None,
    }


def _normalize_attempt(raw: Any, index: int) -> dict:
    at = to_jsonable(raw)
    if isinstance(at, str):
        at = {"source": at}
    if not isinstance(at, dict):
        at = {"source": str(at)}
    parent = at.get("parent", at.get("parent_idx"))
    if parent is None and index > 0 and at.get("repair", True):
        parent = index - 1   # a repair answers the attempt before it unless told otherwise
    known = ("file", "source", "ir_hash", "verdict", "request", "reply", "diagnostics")
    extra = {k: v for k, v in at.items() if k not in known + ("parent", "parent_idx", "index", "repair")}
    return {"index": index, "parent": parent, **{k: at.get(k) for k in known},
            "extra": extra or None}


def _verdict_from_obligations(obligations: list[dict]) -> str | None:
    verdicts = {o.get("verdict") for o in obligations}
    if not obligations:
        return None
    if "violated" in verdicts:
        return "rejected"
    if "unknown" in verdicts:
        return "guarded"
    return "accepted"


def normalize(record: Mapping[str, Any]) -> dict:
    """The canonical record (what `AuditStore.get` gives back) from what a command has.

    Beside the plain keys (see `docs/audit.md`) it accepts the objects commands already hold:
    `program` (an `ir.Program`: source, file, IR hash), `report` (a `VerificationReport` or
    its JSON: verdict, obligations, diagnostics, timings, guards), `outcome` (a `RunOutcome`:
    run, run status, monitor events), `error` (a `CapcError`: its diagnostic), `scene`,
    `spec`, `limits` (the objects or their JSON). Unknown keys are kept under `extra`."""
    rec = dict(record)
    out: dict[str, Any] = {}
    extra: dict[str, Any] = dict(to_jsonable(rec.pop("extra", None)) or {})

    program = rec.pop("program", None)
    report = rec.pop("report", None)
    outcome = rec.pop("outcome", None)
    error = rec.pop("error", None)

    out["time"] = rec.pop("time", None) or now_iso()
    out["capc_version"] = rec.pop("capc_version", None) or __version__
    out["kind"] = str(rec.pop("kind", None) or "unknown")
    parent = rec.pop("parent_id", None)
    out["parent_id"] = int(parent) if parent is not None else None
    for key in ("instruction", "file", "source", "ir_hash", "verdict", "run_status",
                "provider", "model"):
        value = rec.pop(key, None)
        out[key] = None if value is None else str(value)
    out["params"] = to_jsonable(rec.pop("params", None))
    out["scene"] = to_jsonable(rec.pop("scene", None))
    out["spec"] = to_jsonable(rec.pop("spec", None))
    # The verification context (a VerificationContext or its JSON): the world, the limits,
    # the mode and the profile the verdict is about.
    context = to_jsonable(rec.pop("context", None)) or {}
    for key in ("scene", "spec"):
        if out[key] is None and context.get(key) is not None:
            out[key] = context[key]
    for key in _CONTEXT_COLUMNS:
        value = rec.pop(key, None) or context.get(key)
        out[key] = None if value is None else str(value)
    out["limits"] = to_jsonable(rec.pop("limits", None))
    out["timings"] = to_jsonable(rec.pop("timings", None))
    out["run"] = to_jsonable(rec.pop("run", None))
    out["monitor_events"] = to_jsonable(rec.pop("monitor_events", None))
    diagnostics = to_jsonable(rec.pop("diagnostics", None))
    obligations = [_normalize_obligation(o) for o in (rec.pop("obligations", None) or [])]

    if program is not None:
        out["profile"] = out["profile"] or getattr(program, "profile", None)
        out["source"] = out["source"] or getattr(program, "source", None)
        out["file"] = out["file"] or getattr(program, "file", None)
        out["ir_hash"] = out["ir_hash"] or ir_hash(program)
    if report is not None:
        rep = to_jsonable(report)
        if not isinstance(rep, dict):
            rep = {"report": rep}
        out["verdict"] = out["verdict"] or rep.get("verdict")
        out["mode"] = out["mode"] or rep.get("mode")
        if not obligations:
            obligations = [_normalize_obligation(o) for o in rep.get("obligations") or []]
        if diagnostics is None:
            diags = getattr(report, "diagnostics", None)
            diagnostics = to_jsonable(diags() if callable(diags) else rep.get("diagnostics"))
        if out["timings"] is None and rep.get("timings") is not None:
            out["timings"] = rep.get("timings")
        elif out["timings"] is None and isinstance(rep.get("seconds"), (int, float)):
            out["timings"] = {"verify": rep["seconds"]}
        # the rest (mode, guards, faults, counts, paths, solver time...) is kept as it came
        rest = {k: v for k, v in rep.items() if k not in ("verdict", "obligations", "diagnostics")}
        if rest:
            extra.setdefault("verification", rest)
    if outcome is not None:
        run = to_jsonable(outcome)
        out["run"] = out["run"] or run     # status and monitor events are taken from it below
        timeline = getattr(outcome, "timeline", None)   # what `audit export --mcap` draws (timeline.py)
        if timeline is not None and "timeline" not in rec:
            extra["timeline"] = timeline.to_json(outcome.setpoints)
    if error is not None:
        diag = getattr(error, "diagnostic", None)
        if diagnostics is None:
            diagnostics = [to_jsonable(diag if diag is not None else {"message": str(error)})]
        if out["verdict"] is None:
            out["verdict"] = "error" if getattr(error, "exit_code", 1) == 2 else "rejected"
    if isinstance(out["run"], dict):
        if out["run_status"] is None:
            out["run_status"] = out["run"].get("status")
        if out["monitor_events"] is None:
            out["monitor_events"] = out["run"].get("monitor_events")
    out["verdict"] = out["verdict"] or _verdict_from_obligations(obligations)
    out["diagnostics"] = diagnostics
    out["obligations"] = obligations

    attempts = [_normalize_attempt(a, i) for i, a in enumerate(rec.pop("attempts", None) or [])]
    requests, replies = rec.pop("requests", None), rec.pop("replies", None)
    if not attempts and (requests or replies):
        requests, replies = list(requests or []), list(replies or [])
        for i in range(max(len(requests), len(replies))):
            attempts.append(_normalize_attempt(
                {"request": requests[i] if i < len(requests) else None,
                 "reply": replies[i] if i < len(replies) else None}, i))
    out["attempts"] = attempts

    for key, value in rec.items():
        extra[str(key)] = to_jsonable(value)
    out["extra"] = extra or None
    return out


def checksum(record: Mapping[str, Any]) -> str:
    """SHA-256 over the canonical JSON of a record, its id and checksum left out."""
    body = {k: v for k, v in record.items() if k not in ("id", "checksum", "intact")
            and not (k in _CONTEXT_COLUMNS and v is None)}
    text = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


# --- parsing `--since` ------------------------------------------------------------------------

_RELATIVE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_since(text: str, *, now: _dt.datetime | None = None) -> str:
    """`2026-11-25`, `2026-11-25T10:00`, `2026-11-25 10:00:00`, `today`, `yesterday` or a
    relative age (`30m`, `2h`, `7d`) → an ISO UTC timestamp comparable with `created_at`.
    Dates without a zone are UTC."""
    now = now or _dt.datetime.now(_dt.timezone.utc)
    text = text.strip()
    match = _RELATIVE.match(text)
    if match:
        try:
            moment = now - _dt.timedelta(seconds=float(match.group(1)) * _UNIT_SECONDS[match.group(2)])
        except OverflowError:
            raise InputError(f"--since {text!r} reaches back before the year 1") from None
    elif text.lower() in ("today", "yesterday"):
        moment = now.replace(hour=0, minute=0, second=0, microsecond=0)
        if text.lower() == "yesterday":
            moment -= _dt.timedelta(days=1)
    else:
        try:
            moment = _dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise InputError(f"cannot read --since {text!r}",
                             hint="use a date (2026-11-25), a date and time (2026-11-25T10:00) "
                                  "or an age (30m, 2h, 7d)") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=_dt.timezone.utc)
    return moment.astimezone(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# --- the store --------------------------------------------------------------------------------

class AuditStoreError(InputError):
    """The store cannot be opened or read (not SQLite, from a newer capc, unreadable)."""

    def __init__(self, message: str, path: Path, hint: str | None = None):
        super().__init__(f"audit store {path}: {message}", code=codes.E290, hint=hint)
        self.path = path


class AuditStore:
    """One SQLite file of records. Use `open_store()`; close it (or use `with`)."""

    def __init__(self, path: str | os.PathLike, *, busy_timeout: float = DEFAULT_BUSY_SECONDS):
        self.path = Path(path)
        self.busy_timeout = busy_timeout
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: we write BEGIN/COMMIT ourselves, so one record is one transaction.
        self._db = sqlite3.connect(str(path), timeout=busy_timeout, isolation_level=None,
                                   check_same_thread=False)
        try:
            self._db.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
            self._retry_locked(lambda: self._db.execute("PRAGMA journal_mode = WAL").fetchone())
            self._db.execute("PRAGMA synchronous = NORMAL")
            self._db.execute("PRAGMA foreign_keys = ON")
            self.migrated_from = self._migrate()
        except sqlite3.DatabaseError as exc:
            self._db.close()
            if "not a database" in str(exc) or "malformed" in str(exc):
                raise AuditStoreError("is not a readable SQLite database", self.path,
                                      hint=f"move it away or point {ENV_DB}/--audit-db elsewhere") from None
            raise

    # -- lifecycle
    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> "AuditStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _retry_locked(self, action, attempts: int = 50):
        # Switching to WAL takes an exclusive lock for a moment; a second opener can see
        # "locked" before the busy handler applies, so try again briefly.
        deadline = time.monotonic() + self.busy_timeout
        while True:
            try:
                return action()
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.01)

    @property
    def schema_version(self) -> int:
        return self._db.execute("PRAGMA user_version").fetchone()[0]

    def _migrate(self) -> int | None:
        """Bring the schema to SCHEMA_VERSION; returns the version migrated from, if any."""
        version = self.schema_version
        if version == SCHEMA_VERSION:
            return None
        if version > SCHEMA_VERSION:
            raise AuditStoreError(f"has schema version {version}, newer than this capc "
                                  f"understands ({SCHEMA_VERSION})", self.path,
                                  hint="upgrade capc, or use another store with --audit-db")
        self._retry_locked(lambda: self._db.execute("BEGIN IMMEDIATE"))
        try:
            version = self.schema_version   # another process may have migrated meanwhile
            if version == SCHEMA_VERSION:
                self._db.execute("ROLLBACK")
                return None
            start = version
            if version == 0 and self._has_table("records"):
                raise AuditStoreError("has a 'records' table but no schema version", self.path,
                                      hint="this file was not written by capc")
            while version < SCHEMA_VERSION:
                MIGRATIONS[version](self._db)
                version += 1
                self._db.execute(f"PRAGMA user_version = {version}")
            self._db.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)",
                             (str(SCHEMA_VERSION),))
            if start:
                self._db.execute("INSERT OR REPLACE INTO meta VALUES ('migrated_from', ?)",
                                 (f"v{start} at {now_iso()} by capc {__version__}",))
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        return start or None

    def _has_table(self, name: str) -> bool:
        return self._db.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?",
                                (name,)).fetchone() is not None

    # -- writing
    def add(self, record: Mapping[str, Any]) -> int:
        """Store one record (normalised, see `normalize`) in one transaction; its id."""
        rec = normalize(record)
        self._retry_locked(lambda: self._db.execute("BEGIN IMMEDIATE"))
        try:
            record_id = _insert(self._db, rec)
            self._db.execute("COMMIT")
        except BaseException:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise
        return record_id

    # -- reading
    def get(self, record_id: int) -> dict | None:
        """The full record, with `intact` telling whether its checksum still matches."""
        row = self._db.execute("SELECT * FROM records WHERE id = ?", (int(record_id),)).fetchone()
        if row is None:
            return None
        return self._assemble(row)

    def iter_records(self, ids: Iterable[int] | None = None, *, batch: int = 200) -> Iterator[dict]:
        """Full records in id order (all, or the given ids), read in batches."""
        if ids is not None:
            for record_id in ids:
                rec = self.get(record_id)
                if rec is not None:
                    yield rec
            return
        last = 0
        while True:
            rows = self._db.execute("SELECT * FROM records WHERE id > ? ORDER BY id LIMIT ?",
                                    (last, batch)).fetchall()
            if not rows:
                return
            for row in rows:
                yield self._assemble(row)
            last = rows[-1][0]

    def _columns(self) -> list[str]:
        if not hasattr(self, "_record_columns"):
            self._record_columns = [c[0] for c in
                                    self._db.execute("SELECT * FROM records LIMIT 0").description]
        return self._record_columns

    def _assemble(self, row: tuple) -> dict:
        return _assemble(self._db, self._columns(), row)

    def query(self, verdict: str | Iterable[str] | None = None, since: str | None = None,
              grep: str | None = None, limit: int | None = None, kind: str | None = None) -> list[dict]:
        """Summaries of matching records, newest first. `since` as `parse_since` reads it;
        `grep` looks (case-insensitively) in instruction, file, source, model, diagnostics,
        every attempt's source and reply, and obligation messages."""
        where, args = [], []
        if verdict is not None:
            verdicts = [verdict] if isinstance(verdict, str) else list(verdict)
            where.append(f"r.verdict IN ({','.join('?' * len(verdicts))})")
            args.extend(verdicts)
        if kind is not None:
            where.append("r.kind = ?")
            args.append(kind)
        if since is not None:
            where.append("r.created_at >= ?")
            args.append(parse_since(since))
        if grep:
            pattern = "%" + grep.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            fields = ("r.instruction", "r.file", "r.source", "r.model", "r.diagnostics", "r.extra")
            clauses = [f"{f} LIKE ? ESCAPE '\\'" for f in fields]
            clauses.append("EXISTS (SELECT 1 FROM attempts a WHERE a.record_id = r.id AND "
                           "(a.source LIKE ? ESCAPE '\\' OR a.reply LIKE ? ESCAPE '\\'))")
            clauses.append("EXISTS (SELECT 1 FROM obligations o WHERE o.record_id = r.id AND "
                           "o.message LIKE ? ESCAPE '\\')")
            where.append("(" + " OR ".join(clauses) + ")")
            args.extend([pattern] * (len(fields) + 3))
        sql = ("SELECT r.id, r.created_at, r.kind, r.verdict, r.run_status, r.instruction, r.file, "
               "r.model, r.ir_hash, r.diagnostics, r.parent_id, "
               "(SELECT COUNT(*) FROM obligations o WHERE o.record_id = r.id AND o.verdict = 'violated'), "
               "(SELECT o.message FROM obligations o WHERE o.record_id = r.id AND o.verdict = 'violated' "
               " ORDER BY o.idx LIMIT 1) "
               "FROM records r")
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY r.id DESC"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(int(limit))
        out = []
        for row in self._db.execute(sql, args):
            diagnostics = _loads(row[9]) or []
            first = next((d for d in diagnostics if isinstance(d, dict)), None)
            out.append({"id": row[0], "time": row[1], "kind": row[2], "verdict": row[3],
                        "run_status": row[4], "instruction": row[5], "file": row[6],
                        "model": row[7], "ir_hash": row[8], "parent_id": row[10],
                        "violations": row[11],
                        "reason": (f"{first.get('code')}: {first.get('message')}" if first
                                   else row[12])})
        return out

    def count(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM records").fetchone()[0]

    def stats(self) -> dict:
        """Counts by verdict, kind, run status and obligation verdict/property; the most
        frequent diagnostic codes; first and last record time; schema and size."""
        db = self._db

        def grouped(sql: str) -> dict:
            return {str(k): n for k, n in db.execute(sql)}

        codes: dict[str, int] = {}
        for (text,) in db.execute("SELECT diagnostics FROM records WHERE diagnostics IS NOT NULL"):
            for d in _loads(text) or []:
                if isinstance(d, dict) and d.get("code"):
                    codes[d["code"]] = codes.get(d["code"], 0) + 1
        first, last = db.execute("SELECT MIN(created_at), MAX(created_at) FROM records").fetchone()
        size = self.path.stat().st_size if self.path.exists() else 0
        return {
            "path": str(self.path),
            "schema_version": self.schema_version,
            "records": self.count(),
            "first": first,
            "last": last,
            "by_verdict": grouped("SELECT COALESCE(verdict, 'none'), COUNT(*) FROM records GROUP BY 1 ORDER BY 2 DESC"),
            "by_kind": grouped("SELECT kind, COUNT(*) FROM records GROUP BY 1 ORDER BY 2 DESC"),
            "by_run_status": grouped("SELECT run_status, COUNT(*) FROM records WHERE run_status IS NOT NULL GROUP BY 1 ORDER BY 2 DESC"),
            "obligations": grouped("SELECT COALESCE(verdict, 'none'), COUNT(*) FROM obligations GROUP BY 1 ORDER BY 2 DESC"),
            "violations_by_property": grouped("SELECT COALESCE(property, '?'), COUNT(*) FROM obligations WHERE verdict = 'violated' GROUP BY 1 ORDER BY 2 DESC"),
            "top_codes": dict(sorted(codes.items(), key=lambda kv: (-kv[1], kv[0]))[:10]),
            "repairs": db.execute("SELECT COUNT(*) FROM attempts WHERE parent_idx IS NOT NULL").fetchone()[0],
            "monitor_stops": db.execute("SELECT COUNT(*) FROM records WHERE run_status = 'stopped_by_monitor'").fetchone()[0],
            "bytes": size,
        }

    def check_integrity(self) -> dict:
        """SQLite's own integrity check plus every record's checksum."""
        sqlite_ok = self._db.execute("PRAGMA integrity_check").fetchone()[0]
        broken = [rec["id"] for rec in self.iter_records() if not rec["intact"]]
        return {"sqlite": sqlite_ok, "records": self.count(), "broken": broken,
                "ok": sqlite_ok == "ok" and not broken}


def _assemble(db: sqlite3.Connection, columns: list[str], row: tuple) -> dict:
    """The full record of one `records` row, with its obligations and attempts; `intact`
    tells whether its checksum still matches."""
    raw = dict(zip(columns, row))
    rec: dict[str, Any] = {"id": raw["id"], "time": raw["created_at"]}
    for key in _TEXT_COLUMNS[1:]:
        rec[key] = raw[key]
    for key in _JSON_COLUMNS:
        rec[key] = _loads(raw[key])
    for key in _CONTEXT_COLUMNS:
        rec[key] = raw.get(key)
    rec["obligations"] = [
        {"id": r[0], "primitive": r[1], "role": r[2], "property": r[3], "verdict": r[4],
         "span": _loads(r[5]), "counterexample": _loads(r[6]), "message": r[7],
         "extra": _loads(r[8])}
        for r in db.execute(
            "SELECT obligation_id, primitive, role, property, verdict, span, counterexample, "
            "message, extra FROM obligations WHERE record_id = ? ORDER BY idx", (raw["id"],))]
    rec["attempts"] = [
        {"index": r[0], "parent": r[1], "file": r[2], "source": r[3], "ir_hash": r[4],
         "verdict": r[5], "request": _loads(r[6]), "reply": r[7], "diagnostics": _loads(r[8]),
         "extra": _loads(r[9])}
        for r in db.execute(
            "SELECT idx, parent_idx, file, source, ir_hash, verdict, request, reply, "
            "diagnostics, extra FROM attempts WHERE record_id = ? ORDER BY idx", (raw["id"],))]
    rec["checksum"] = raw["checksum"]
    rec["intact"] = checksum(rec) == raw["checksum"]
    return rec


def _insert(db: sqlite3.Connection, rec: dict, record_id: int | None = None) -> int:
    """Insert one canonical record (inside the caller's transaction)."""
    values = {
        "created_at": rec["time"], "capc_version": rec["capc_version"], "kind": rec["kind"],
        "parent_id": rec["parent_id"], "instruction": rec["instruction"], "file": rec["file"],
        "source": rec["source"], "ir_hash": rec["ir_hash"], "verdict": rec["verdict"],
        "run_status": rec["run_status"], "provider": rec["provider"], "model": rec["model"],
    }
    for key in _JSON_COLUMNS:
        values[key] = _dumps(rec[key])
    if "mode" in _columns_of(db):     # a v2 table while migrating from v1
        for key in _CONTEXT_COLUMNS:
            values[key] = rec.get(key)
    # Round-trip through JSON first so the checksum is over exactly what `get` will read.
    stored = json.loads(json.dumps({k: v for k, v in rec.items() if k != "id"}, ensure_ascii=False))
    values["checksum"] = checksum(stored)
    if record_id is not None:
        values["id"] = record_id
    names = list(values)
    cursor = db.execute(f"INSERT INTO records ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
                        [values[n] for n in names])
    new_id = cursor.lastrowid
    db.executemany(
        "INSERT INTO obligations (record_id, idx, obligation_id, primitive, role, property, verdict, "
        "line, col, span, counterexample, message, extra) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
        [(new_id, i, o["id"], o["primitive"], o["role"], o["property"], o["verdict"],
          (o["span"] or {}).get("line"), (o["span"] or {}).get("col"), _dumps(o["span"]),
          _dumps(o["counterexample"]), o["message"], _dumps(o["extra"]))
         for i, o in enumerate(rec["obligations"])])
    db.executemany(
        "INSERT INTO attempts (record_id, idx, parent_idx, file, source, ir_hash, verdict, request, "
        "reply, diagnostics, extra) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        [(new_id, a["index"], a["parent"], a["file"], a["source"], a["ir_hash"], a["verdict"],
          _dumps(a["request"]), None if a["reply"] is None else str(a["reply"]),
          _dumps(a["diagnostics"]), _dumps(a["extra"])) for a in rec["attempts"]])
    return new_id


# --- migrations -------------------------------------------------------------------------------

def _columns_of(db: sqlite3.Connection) -> list[str]:
    return [c[0] for c in db.execute("SELECT * FROM records LIMIT 0").description]


def _v2_to_v3(db: sqlite3.Connection) -> None:
    """v3 stores each verdict's mode (scene / any_scene) and profile beside its scene and
    spec. Where a v2 record says how it was verified (its report's mode, or an `any_scene`
    flag), that is filled in and the checksum of an intact record is renewed; a record that
    says nothing keeps NULL (recheck then reads what it can), a broken one stays broken."""
    for key in _CONTEXT_COLUMNS:
        db.execute(f"ALTER TABLE records ADD COLUMN {key} TEXT")
    columns = _columns_of(db)
    for row in db.execute("SELECT * FROM records ORDER BY id").fetchall():
        rec = _assemble(db, columns, row)
        extra = rec.get("extra") or {}
        verification = extra.get("verification") if isinstance(extra.get("verification"), dict) else {}
        mode = verification.get("mode") or ("any_scene" if extra.get("any_scene") else None)
        if mode is None:
            continue
        intact = rec.pop("intact")
        rec.update(mode=str(mode), profile="tabletop")   # the only profile before v3
        new_sum = checksum(rec) if intact else rec["checksum"]
        db.execute("UPDATE records SET mode = ?, profile = ?, checksum = ? WHERE id = ?",
                   (rec["mode"], rec["profile"], new_sum, rec["id"]))


def _create_v1_to_v2(db: sqlite3.Connection) -> None:
    """v1 (capc 0.0.x) kept one table `records(id, created_at, kind, verdict, source, payload)`
    with everything else in a JSON payload, `llm` as "provider/model", and obligations with a
    bare line/col. v2 splits the payload into columns and child tables. Ids are kept, so
    references to records (parent ids, notes) stay valid."""
    db.execute("ALTER TABLE records RENAME TO records_v1")
    for statement in _statements(SCHEMA_V2):   # not executescript: it would COMMIT
        db.execute(statement)
    rows = db.execute("SELECT id, created_at, kind, verdict, source, payload FROM records_v1 "
                      "ORDER BY id").fetchall()
    for record_id, created_at, kind, verdict, source, payload in rows:
        data = json.loads(payload) if payload else {}
        provider = model = None
        if data.get("llm"):
            provider, _, model = str(data["llm"]).partition("/")
            model = model or None
        obligations = []
        for ob in data.get("obligations") or []:
            obligations.append({**ob, "span": {"file": data.get("file"), "line": ob.get("line"),
                                               "col": ob.get("col")} if ob.get("line") else None})
        rec = normalize({
            "time": created_at, "capc_version": data.get("version"), "kind": kind,
            "verdict": verdict, "source": source, "instruction": data.get("instruction"),
            "file": data.get("file"), "scene": data.get("scene"), "spec": data.get("limits"),
            "provider": provider, "model": model, "params": data.get("params"),
            "obligations": obligations, "run": data.get("run"),
            "timings": data.get("timings"), "diagnostics": data.get("diagnostics"),
            "attempts": [{"source": source}] if source is not None else [],
            "extra": {"migrated_from": 1},
        })
        _insert(db, rec, record_id=record_id)
    db.execute("DROP TABLE records_v1")


def _create_v0_to_v1(db: sqlite3.Connection) -> None:
    """A fresh file: create the v1 table so that every store walks the same path to v2."""
    for statement in _statements(SCHEMA_V1):
        db.execute(statement)


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]


# The previous layout, kept so that a fresh store and an old one take the same migrations
# (and so that tests/fixtures/make_audit_v1.py builds the fixture from the real thing).
SCHEMA_V1 = """
CREATE TABLE records (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at  TEXT NOT NULL,
    kind        TEXT NOT NULL,
    verdict     TEXT,
    source      TEXT,
    payload     TEXT
)
"""

MIGRATIONS = {0: _create_v0_to_v1, 1: _create_v1_to_v2, 2: _v2_to_v3}


# --- opening and recording --------------------------------------------------------------------

def open_store(path: str | os.PathLike | None = None, *,
               busy_timeout: float = DEFAULT_BUSY_SECONDS) -> AuditStore:
    """Open (creating or migrating as needed) the store at `path` or the default place."""
    resolved = resolve_path(path)
    if resolved.is_dir():
        raise AuditStoreError("is a directory, not a database file", resolved,
                              hint=f"name a file, e.g. {resolved / 'audit.db'}")
    try:
        return AuditStore(resolved, busy_timeout=busy_timeout)
    except AuditStoreError:
        raise
    except (OSError, sqlite3.Error) as exc:
        raise AuditStoreError(f"cannot be opened ({exc})", resolved,
                              hint=f"check the directory's permissions, or set --audit-db/{ENV_DB}") from None


_failure_reported = False


def record_safely(*kind_arg: str, audit_db: str | os.PathLike | None = None, **fields: Any) -> int | None:
    """`record_safely(kind, **fields)`: record one compile/check/run; the new record's id, or
    None if it was not written. (`kind` is taken positionally or from `fields`, so that
    passing a whole record dict with its own "kind" cannot raise a TypeError at the call.)

    Never raises (except KeyboardInterrupt) and waits at most SAFE_BUSY_SECONDS for the lock:
    a compile must not fail or hang because its audit trail cannot be written. The first
    failure in a process is reported on stderr in one line; later ones are silent.
    `CAPC_AUDIT_DB=off` turns recording off."""
    global _failure_reported
    kind = str(kind_arg[0]) if kind_arg else str(fields.pop("kind", "unknown"))
    fields.pop("kind", None)
    if audit_db is None and recording_disabled():
        return None
    path = None
    try:
        path = resolve_path(audit_db)
        with AuditStore(path, busy_timeout=SAFE_BUSY_SECONDS) as store:
            return store.add({**fields, "kind": kind})
    except Exception as exc:   # noqa: BLE001 - by contract nothing may escape
        if not _failure_reported:
            _failure_reported = True
            reason = exc.diagnostic.message if hasattr(exc, "diagnostic") else f"{type(exc).__name__}: {exc}"
            try:
                print(f"capc: warning: audit record not written to {path or 'the audit store'}: "
                      f"{reason} (the {kind} itself is unaffected; set --audit-db or "
                      f"{ENV_DB}=off)", file=sys.stderr)
            except Exception:  # noqa: BLE001 - stderr itself may be gone
                pass
        return None


# --- reading a record back as diagnostics (shared by `capc audit show` and the HTML export) ---

def diagnostic_from_json(data: Mapping[str, Any], file: str | None = None):
    """A `Diagnostic` from its `to_json()` form; `file` names the source when it does not."""
    from capc.diagnostics import Diagnostic, Span
    span = None
    line = data.get("line") if data.get("line") is not None else (data.get("span") or {}).get("line")
    if line is not None:
        sp = data.get("span") or data
        col = sp.get("col") or 1
        span = Span(str(sp.get("file") or data.get("file") or file or "<policy>"), int(line), int(col),
                    int(sp.get("end_line") or line), int(sp.get("end_col") or col + 1))
    return Diagnostic(code=str(data.get("code") or codes.E300), message=str(data.get("message") or ""),
                      span=span, kind=str(data.get("kind") or "error"), hint=data.get("hint"),
                      counterexample=data.get("counterexample"),
                      notes=tuple(data.get("notes") or ()))


def proptest_summary(record: Mapping[str, Any]) -> list[str]:
    """What a `capc proptest` record found, in lines: the search, the failure, the shrunk
    world, where it was written and the command that replays it ([] for other records)."""
    test = (record.get("extra") or {}).get("proptest")
    if not isinstance(test, Mapping):
        return []
    head = f"property test: {test.get('examples')} worlds (seed {test.get('seed')})"
    if not test.get("found"):
        return [head + ": no failure found"]
    failure = test.get("failure") if isinstance(test.get("failure"), Mapping) else {}
    where = f" at line {failure['line']}" if failure.get("line") else ""
    lines = [head + f": a {failure.get('kind', '?')} failure{where}", f"  {failure.get('message', '')}"]
    objects = (test.get("world") or {}).get("objects") or []
    if objects:
        lines.append("  world: " + ", ".join(
            f"{o.get('name')} at ({', '.join(f'{v:.4g}' for v in o.get('position') or [])})"
            for o in objects if isinstance(o, Mapping)))
    for label, key in (("written to", "scene_file"), ("reproduce", "reproduce")):
        if test.get(key):
            lines.append(f"  {label}: {test[key]}")
    return lines


def failing_obligations(record: Mapping[str, Any]) -> list[dict]:
    """Obligations that were not proved, violated first."""
    obligations = record.get("obligations") or []
    order = {"violated": 0, "unknown": 1}
    return sorted((o for o in obligations if o.get("verdict") in order),
                  key=lambda o: order[o["verdict"]])


def offending_lines(record: Mapping[str, Any]) -> dict[int, list[tuple[int, int]]]:
    """Line number → column ranges [start, end) to mark in the record's source: the spans of
    failing obligations and of error diagnostics that point into the record's own file."""
    marks: dict[int, list[tuple[int, int]]] = {}
    file = record.get("file")
    spans = [o.get("span") for o in failing_obligations(record)]
    spans += [d.get("span") or d for d in record.get("diagnostics") or [] if isinstance(d, dict)
              and d.get("kind") != "warning"]
    for span in spans:
        if not isinstance(span, dict) or span.get("line") is None:
            continue
        if file and span.get("file") and span["file"] != file:
            continue   # a helper's own file: its lines are not in this source
        line, col = int(span["line"]), int(span.get("col") or 1)
        end_line = int(span.get("end_line") or line)
        end_col = int(span.get("end_col") or col + 1) if end_line == line else 10 ** 6
        ranges = marks.setdefault(line, [])
        if (col, end_col) not in ranges:
            ranges.append((col, end_col))
    return marks
