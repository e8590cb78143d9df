"""capc's findings as SARIF 2.1.0 (`capc check --format sarif`), the format GitHub code
scanning and editors' SARIF viewers read.

One SARIF run per call; one result per diagnostic: its rule is the error code (the one-line
meaning from capc/codes.py, the layer, where docs/errors.md explains it), its location is the
diagnostic's span (SARIF counts lines and columns from 1 and ends a region one column past it,
as capc's spans do; columns count characters, hence `columnKind: unicodeCodePoints`), its
level is "warning" for a guarded command and "error" for everything else, and a solver's
counterexample comes as a related location at the same span whose message is the
counterexample in words (the raw values in the result's `properties.counterexample`).
An unusable input file is a tool execution notification of the run, which then did not
execute successfully.
tests/test_sarif.py validates the output against the OASIS schema shipped in tests/schemas.
"""

from __future__ import annotations

import os
from pathlib import PurePath
from typing import Any, Iterable
from urllib.parse import quote

from capc import __version__, codes
from capc.diagnostics import Diagnostic, Span, describe_counterexample, source_lines

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = ("https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/"
                "sarif-schema-2.1.0.json")
ERRORS_DOC = "docs/errors.md"


def to_sarif(checked: Iterable[tuple[Any, str | None]], *, docs_url: str | None = None) -> dict[str, Any]:
    """The SARIF log of some checked policies: `checked` holds (capc.api.Report, source text
    or None) pairs; the source, when given, supplies each region's snippet. `docs_url`, the
    absolute URL docs/errors.md is published at, becomes each rule's helpUri (SARIF wants an
    absolute URI there, and capc does not know where its docs are served)."""
    rules: list[dict[str, Any]] = []
    rule_index: dict[str, int] = {}
    results: list[dict[str, Any]] = []
    verdicts: list[dict[str, str]] = []
    notifications: list[dict[str, Any]] = []
    for report, source in checked:
        verdicts.append({"file": report.file, "verdict": report.verdict, **dict(report.more)})
        if report.verdict == "error":   # an unusable input: the run failed, nothing was checked
            notifications += [_notification(d, report.file) for d in report.diagnostics]
            continue
        lines = source_lines(source) if source is not None else None
        for diagnostic in report.diagnostics:
            code = str(diagnostic.code)
            if code not in rule_index:
                rule_index[code] = len(rules)
                rules.append(_rule(code, diagnostic, docs_url))
            results.append(_result(diagnostic, report.file, rule_index[code], lines))
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [{
            "tool": {"driver": {"name": "capc", "version": __version__,
                                "rules": rules}},
            "columnKind": "unicodeCodePoints",
            "invocations": [{"executionSuccessful": not notifications,
                             "toolExecutionNotifications": notifications}],
            "results": results,
            "properties": {"verdicts": verdicts},
        }],
    }


def from_audit_records(records: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """The SARIF log of audit records (`capc audit export --format sarif`): each record's
    stored diagnostics, located in its stored source; `properties.verdicts` names the record
    (`audit_id`, `kind`) beside its file and verdict."""
    from capc.report import Report

    def checked(record: dict[str, Any]) -> tuple[Any, str | None]:
        diagnostics = tuple(diagnostic_from_json(d) for d in record.get("diagnostics") or ())
        report = Report(file=record.get("file") or f"audit-{record['id']}", verdict=record.get("verdict") or "",
                        diagnostics=diagnostics, any_scene=record.get("mode") == "any_scene",
                        more=(("audit_id", record["id"]), ("kind", record.get("kind"))))
        return report, record.get("source")

    return to_sarif(checked(r) for r in records)


def diagnostic_from_json(data: dict[str, Any]) -> Diagnostic:
    """A Diagnostic from its `to_json()` (what the audit store keeps)."""
    span = None
    if data.get("file") is not None and data.get("line") is not None:
        line, col = data["line"], data.get("col") or 1
        span = Span(data["file"], line, col, data.get("end_line") or line, data.get("end_col") or col + 1)
    return Diagnostic(data["code"], data["message"], span, data.get("kind") or "error", data.get("hint"),
                      data.get("counterexample"), tuple(data.get("notes") or ()))


def _rule(code: str, diagnostic: Diagnostic, docs_url: str | None) -> dict[str, Any]:
    known = codes.ALL.get(code)
    meaning = known.meaning if known is not None else diagnostic.message
    layer = known.layer if known is not None else diagnostic.kind
    rule: dict[str, Any] = {
        "id": code,
        "shortDescription": {"text": meaning},
        "help": {"text": f"{code}: {meaning}. The catalogue of capc's error codes, with hints, "
                         f"is {ERRORS_DOC}.",
                 "markdown": f"**{code}**: {meaning}.\n\nSee `{ERRORS_DOC}` ({layer})."},
        "defaultConfiguration": {"level": _level(diagnostic)},
        "properties": {"layer": layer, "tags": ["capc", layer]},
    }
    if docs_url:
        rule["helpUri"] = f"{docs_url}#{code.lower()}"
    return rule


def _result(diagnostic: Diagnostic, file: str, index: int, lines: list[str] | None) -> dict[str, Any]:
    text = diagnostic.message
    if diagnostic.hint:
        text += f" (help: {diagnostic.hint})"
    location = _location(diagnostic, file, lines)
    result: dict[str, Any] = {
        "ruleId": str(diagnostic.code),
        "ruleIndex": index,
        "level": _level(diagnostic),
        "message": {"text": text},
        "locations": [location],
        "properties": {"kind": diagnostic.kind, "hint": diagnostic.hint,
                       "notes": list(diagnostic.notes)},
    }
    if diagnostic.counterexample:
        result["message"]["text"] += " See the [counterexample](1)."
        result["relatedLocations"] = [{
            "id": 1,
            "physicalLocation": location["physicalLocation"],
            "message": {"text": "\n".join(describe_counterexample(diagnostic.counterexample))},
        }]
        result["properties"]["counterexample"] = diagnostic.counterexample
    return result


def _notification(diagnostic: Diagnostic, file: str) -> dict[str, Any]:
    """An input error (a scene or limits file capc could not use) as SARIF reports a problem
    of the run rather than a finding: a tool execution notification."""
    text = diagnostic.message + (f" (help: {diagnostic.hint})" if diagnostic.hint else "")
    return {"level": "error", "message": {"text": text},
            "descriptor": {"id": str(diagnostic.code)},
            "locations": [_location(diagnostic, file, None)]}


def _location(diagnostic: Diagnostic, file: str, lines: list[str] | None) -> dict[str, Any]:
    span = diagnostic.span
    physical: dict[str, Any] = {"artifactLocation": {"uri": artifact_uri(span.file if span else file)}}
    if span is not None:
        region: dict[str, Any] = {"startLine": span.line, "startColumn": span.col,
                                  "endLine": span.end_line, "endColumn": max(span.end_col, 1)}
        if lines is not None and 1 <= span.line <= len(lines):
            region["snippet"] = {"text": lines[span.line - 1]}
        physical["region"] = region
    return {"physicalLocation": physical}


def _level(diagnostic: Diagnostic) -> str:
    return "warning" if diagnostic.kind == "warning" else "error"


def artifact_uri(path: str) -> str:
    """A file's URI reference: relative paths stay relative (code scanning resolves them
    against the checkout), with forward slashes; absolute ones become file:// URIs."""
    if os.path.isabs(path):
        return PurePath(path).as_uri()
    return quote(PurePath(path).as_posix())
