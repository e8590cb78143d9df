"""`capc audit`: list, show, export, recheck and count what capc has compiled, checked and run."""

from __future__ import annotations

import argparse
import json
import re
import sys
from typing import Any

from capc import codes

HELP = "the audit store: list | show | export | recheck | stats"

EXIT_OK, EXIT_CHANGED = 0, 1

# Stored text came from a language model or a user: it must not drive the terminal (escape
# sequences can clear the screen, rewrite earlier lines or set the window title).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def terminal_safe(text: str) -> str:
    """Control characters (and bidi overrides) shown as escapes; newlines and tabs kept."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100
                        else f"\\u{ord(m.group()):04x}", text)


def add_store_argument(parser: argparse.ArgumentParser, *, default=None) -> None:
    """`--audit-db PATH` (also used by the commands that record)."""
    parser.add_argument("--audit-db", metavar="PATH", default=default,
                        help="audit store to use (default: $CAPC_AUDIT_DB, else $CAPC_HOME/audit.db, "
                             "else $XDG_STATE_HOME/capc/audit.db or ~/.local/state/capc/audit.db)")


def _filters(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    for verdict in ("rejected", "guarded", "accepted"):
        group.add_argument(f"--{verdict}", dest="verdict", action="store_const", const=verdict,
                           help=f"only {verdict} records")
    parser.add_argument("--since", metavar="DATE",
                        help="only records from then on: 2026-11-25, 2026-11-25T10:00, today, 2h, 7d")
    parser.add_argument("--grep", metavar="TEXT",
                        help="only records whose instruction, file, source, replies or messages contain TEXT")
    parser.add_argument("--kind", metavar="KIND", help="only records of this kind (check, run, compile, ...)")


def _record_id(text: str) -> int | str:
    if text == "last":
        return text
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a record id: {text!r} (a number, or `last`)") from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_store_argument(parser)
    sub = parser.add_subparsers(dest="audit_command", metavar="ACTION")
    sub.required = True
    # `--audit-db` may come after the action too; SUPPRESS keeps an earlier one.
    inherit = argparse.ArgumentParser(add_help=False)
    add_store_argument(inherit, default=argparse.SUPPRESS)

    p = sub.add_parser("list", parents=[inherit], help="records, newest first")
    _filters(p)
    p.add_argument("-n", "--limit", type=int, default=50, help="at most N records (0: all; default 50)")
    p.add_argument("--json", action="store_true", help="one JSON object: the records, newest first (docs/api.md)")

    p = sub.add_parser("show", parents=[inherit], help="one record: source, reason, counterexample, picture")
    p.add_argument("id", type=_record_id, help="record id (see `capc audit list`), or `last`: the newest record")
    p.add_argument("--plot", metavar="OUT.png", help="write the picture of the counterexample")
    p.add_argument("--obligation", type=int, metavar="N",
                   help="draw obligation N (0-based) instead of the first violated one")
    p.add_argument("--attempt", type=int, metavar="N",
                   help="draw why attempt N (1-based, as listed) was refused, e.g. before a repair")
    p.add_argument("--attempts", action="store_true", help="print the source of every attempt")
    p.add_argument("--json", action="store_true", help="the whole record as JSON")

    p = sub.add_parser("export", parents=[inherit],
                       help="write records as JSON Lines, one HTML file, SARIF 2.1.0, or a run as MCAP")
    p.add_argument("id", type=_record_id, nargs="?", metavar="RUN",
                   help="with --mcap: the run record to write (an id, or `last`: the newest run)")
    _filters(p)
    p.add_argument("--format", choices=("jsonl", "html", "sarif"),
                   help="output format (default: from the file name (.html, .sarif), else jsonl)")
    p.add_argument("-o", "--output", metavar="FILE", help="output file ('-': stdout)")
    p.add_argument("--sarif", metavar="OUT.sarif", help="write SARIF 2.1.0 to OUT (the same as --format sarif -o OUT)")
    p.add_argument("--mcap", metavar="OUT.mcap",
                   help="write the run record RUN as an MCAP file for Foxglove (docs/audit.md)")
    p.add_argument("--max-pictures", type=int, default=None, metavar="N",
                   help="draw at most N pictures in the HTML (default 100; each takes ~0.15 s)")

    p = sub.add_parser("recheck", parents=[inherit],
                       help="re-verify stored programs with today's verifier; list changed verdicts")
    p.add_argument("ids", type=int, nargs="*", metavar="ID")
    p.add_argument("--all", action="store_true", help="every stored program")
    p.add_argument("--limits", metavar="FILE",
                   help="verify under this limits file instead of each record's own")
    p.add_argument("--json", action="store_true")
    from capc.commands.proptest import add_scale_arguments
    add_scale_arguments(p, "verifications, in batches of programs,")

    p = sub.add_parser("stats", parents=[inherit], help="counts by verdict, kind, run outcome, code")
    p.add_argument("--json", action="store_true")
    p.add_argument("--check", action="store_true",
                   help="also verify SQLite's integrity and every record's checksum")


def run(args: argparse.Namespace) -> int:
    from capc.audit.store import open_store
    with open_store(args.audit_db) as store:
        return ACTIONS[args.audit_command](store, args)


# --- list ---------------------------------------------------------------------------------------

def _short(text: Any, width: int) -> str:
    text = " ".join(str(text or "").split())
    return text if len(text) <= width else text[:width - 1] + "…"


def _list(store, args) -> int:
    rows = store.query(verdict=args.verdict, since=args.since, grep=args.grep, kind=args.kind,
                       limit=args.limit or None)
    if args.json:
        from capc.commands.json_output import emit

        emit("audit list", {"records": rows, "error": None}, ensure_ascii=False, indent=1)
        return EXIT_OK
    if not rows:
        print(f"no records in {store.path}" + (" match" if args.verdict or args.since or args.grep else ""))
        return EXIT_OK
    print(f"{'id':>6}  {'time (UTC)':16}  {'kind':8} {'verdict':9} {'run':12} what / reason")
    for r in rows:
        what = r["instruction"] or r["file"] or ""
        reason = f" — {r['reason']}" if r["reason"] and r["verdict"] != "accepted" else ""
        print(terminal_safe(
            f"{r['id']:>6}  {(r['time'] or '')[:16].replace('T', ' '):16}  {_short(r['kind'], 8):8} "
            f"{r['verdict'] or '-':9} {_short(r['run_status'] or '-', 12):12} "
            f"{_short(what + reason, 80)}"))
    return EXIT_OK


# --- show ---------------------------------------------------------------------------------------

def source_listing(record: dict) -> list[str]:
    """The policy with line numbers; offending lines marked '>' with carets under the span."""
    from capc.diagnostics import listing_lines
    from capc.audit.store import offending_lines
    source = record.get("source")
    if not source:
        return ["  (no policy source stored)"]
    marks = offending_lines(record)
    lines = listing_lines(source)
    width = len(str(len(lines)))
    out = []
    for number, text in enumerate(lines, 1):
        flag = ">" if number in marks else " "
        out.append(f"{flag} {number:>{width}} | {text}")
        for col, end in marks.get(number, []):
            end = min(end, len(text) + 1)
            out.append(f"  {' ' * width} | {' ' * (col - 1)}{'^' * max(1, end - col)}")
    return out


def _seconds(value: Any) -> str:
    return f"{value * 1000:.0f} ms" if isinstance(value, (int, float)) and value < 1 else \
        (f"{value:.2f} s" if isinstance(value, (int, float)) else str(value))


def show_text(record: dict) -> str:
    from capc.diagnostics import describe_counterexample, render
    from capc.audit.store import diagnostic_from_json, failing_obligations, proptest_summary
    out = [f"record #{record['id']}  {record['time']}  {record['kind']}  (capc {record['capc_version']})"]
    if not record.get("intact", True):
        out.append("WARNING: this record's checksum does not match its contents")
    facts = [("verdict", (record.get("verdict") or "none").upper()), ("file", record.get("file")),
             ("instruction", record.get("instruction")),
             ("model", "/".join(x for x in (record.get("provider"), record.get("model")) if x) or None),
             ("parameters", json.dumps(record["params"]) if record.get("params") else None),
             ("parent record", record.get("parent_id")), ("IR hash", record.get("ir_hash")),
             ("run", record.get("run_status"))]
    out += [f"  {k}: {v}" for k, v in facts if v is not None]
    out += ["", f"source ({record.get('file') or 'policy'}):"] + source_listing(record)

    source = record.get("source")
    diagnostics = [d for d in record.get("diagnostics") or [] if isinstance(d, dict)]
    failing = failing_obligations(record)
    if diagnostics or failing:
        out += ["", "why:"]
    for diag in diagnostics:
        out += [render(diagnostic_from_json(diag, record.get("file")), source), ""]
    shown = {json.dumps(d.get("counterexample"), sort_keys=True) for d in diagnostics if d.get("counterexample")}
    for ob in failing:
        span = ob.get("span") or {}
        where = f" at line {span['line']}:{span.get('col') or 1}" if span.get("line") else ""
        out.append(f"  {ob['verdict']}: {ob.get('primitive') or '?'} "
                   f"{('(' + ob['role'] + ') ') if ob.get('role') else ''}{ob.get('property') or ''}{where}")
        if ob.get("message"):
            out.append(f"    {ob['message']}")
        cex = ob.get("counterexample")
        if cex and json.dumps(cex, sort_keys=True) not in shown:
            out += ["    " + line for line in describe_counterexample(cex)]
    obligations = record.get("obligations") or []
    if obligations:
        counts = {v: sum(o.get("verdict") == v for o in obligations) for v in ("proved", "violated", "unknown")}
        out += ["", "obligations: " + ", ".join(f"{n} {v}" for v, n in counts.items())]

    attempts = record.get("attempts") or []
    if len(attempts) > 1:
        out += ["", f"attempts: {len(attempts)}"]
        for a in attempts:
            repairs = f" (repairs attempt {a['parent'] + 1})" if a.get("parent") is not None else ""
            out.append(f"  attempt {a['index'] + 1}: {a.get('verdict') or '?'}{repairs}")
            if a is attempts[-1]:
                continue    # the final attempt is the record's own source, shown above
            # why an earlier attempt was refused, against that attempt's own source
            for diag in [d for d in a.get("diagnostics") or [] if isinstance(d, dict)][:3]:
                text = render(diagnostic_from_json(diag, a.get("file")), a.get("source") or a.get("reply"))
                out += ["    " + line for line in text.splitlines()]
    run = record.get("run")
    if run:
        if isinstance(run, dict):
            bits = [f"{k} {run[k]}" for k in ("status", "backend", "steps", "sim_time")
                    if run.get(k) is not None]
            out += ["", "run: " + ", ".join(bits)]
            if run.get("message"):
                where = f" (line {run['line']})" if run.get("line") else ""
                out.append("  " + " ".join(str(x) for x in (run.get("code"), run["message"]) if x) + where)
            task = run.get("task_result")
            if isinstance(task, dict):
                out.append(f"  task {run.get('task') or ''}: "
                           f"{'done' if task.get('done') else 'NOT done'} {task.get('detail') or ''}".rstrip())
        else:
            out += ["", f"run: {run}"]
    events = record.get("monitor_events")
    if events is not None or run:
        events = events or []
        out.append(f"monitor interventions: {len(events) or 'none'}")
        for event in events[:10]:
            out.append(f"  {event.get('message') if isinstance(event, dict) and event.get('message') else event}")
    observed = run.get("outcome_events") if isinstance(run, dict) else None
    if isinstance(observed, list):  # records from before outcomes were observed have none
        out.append(f"outcome events: {len(observed) or 'none'}")
        for event in observed[:10]:
            if isinstance(event, dict):
                out.append(f"  {event.get('code')} {event.get('message')}")
    found = proptest_summary(record)
    if found:
        out += [""] + found
    timings = record.get("timings")
    if isinstance(timings, dict) and timings:
        out += ["", "timings: " + ", ".join(f"{k} {_seconds(v)}" for k, v in timings.items())]
    return "\n".join(out)


def find_record(store, record_id: int | str, kind: str | None = None) -> dict:
    """The record `record_id` names (`last`: the newest, of `kind` if given), or the E292 error."""
    from capc.diagnostics import InputError
    what = f"{kind} records" if kind else "audit records"
    if record_id == "last":
        newest = store.query(kind=kind, limit=1)
        if not newest:
            raise InputError(f"no {what} in {store.path} yet", code=codes.E292,
                             hint="capc run POLICY.py leaves one" if kind == "run"
                             else "capc check, run, compile, shell and proptest each leave one")
        record_id = newest[0]["id"]
    record = store.get(record_id)
    if record is None:
        raise InputError(f"no audit record #{record_id} in {store.path}", code=codes.E292,
                         hint=f"see `capc audit list{' --kind ' + kind if kind else ''}`")
    return record


def _show(store, args) -> int:
    record = find_record(store, args.id)
    if args.json:
        from capc.commands.json_output import emit

        emit("audit show", {**record, "error": None}, ensure_ascii=False, indent=1)
    else:
        print(terminal_safe(show_text(record)))
        if args.attempts:
            for a in record.get("attempts") or []:
                print(terminal_safe(f"\n--- attempt {a['index'] + 1} ({a.get('verdict') or '?'}) ---\n"
                                    + (a.get("source") or a.get("reply") or "(empty)")))
    if args.plot:
        from capc.audit.plot import write_png
        from capc.files import check_output_path, output_errors
        check_output_path(args.plot, "picture", code=codes.E293, example="cex.png")
        with output_errors(args.plot, "picture", code=codes.E293):
            attempt = None if args.attempt is None else args.attempt - 1
            picture = write_png(record, args.plot, args.obligation, attempt)
        what = "the counterexample" if picture.obligation else "the scene (no counterexample)"
        print(f"picture of {what}: {args.plot}", file=sys.stderr if args.json else sys.stdout)
    return EXIT_OK


# --- export -------------------------------------------------------------------------------------

def _format_of(output: str) -> str:
    name = output.lower()
    if name.endswith((".html", ".htm")):
        return "html"
    return "sarif" if name.endswith((".sarif", ".sarif.json")) else "jsonl"


def _export(store, args) -> int:
    from capc.audit import export as audit_export
    from capc.diagnostics import InputError
    from capc.files import check_output_path, output_errors
    given = [flag for flag, value in (("-o", args.output), ("--sarif", args.sarif), ("--mcap", args.mcap)) if value]
    if len(given) != 1:
        raise InputError("capc audit export needs one of -o FILE, --sarif OUT or --mcap OUT"
                         + (f", not {' and '.join(given)}" if given else ""),
                         hint="capc audit export -o audit.html | --sarif audit.sarif | RUN --mcap run.mcap")
    if args.mcap:
        return _export_mcap(store, args)
    if args.id is not None:
        raise InputError("a record id is for --mcap; filter the export with --kind, --since, --grep, --rejected ...")
    if args.sarif:
        if args.format not in (None, "sarif"):
            raise InputError(f"--sarif writes SARIF, not {args.format}")
        args.output, args.format = args.sarif, "sarif"
    fmt = args.format or _format_of(args.output)
    if args.output != "-":   # before the records are read and drawn
        check_output_path(args.output, "export", code=codes.E293, example=f"audit.{fmt}")
    ids = [r["id"] for r in reversed(store.query(verdict=args.verdict, since=args.since,
                                                 grep=args.grep, kind=args.kind))]
    filtered = bool(args.verdict or args.since or args.grep or args.kind)
    records = store.iter_records(ids if filtered else None)
    # a full disk or a vanished folder while writing is the same one-line error as up front
    with output_errors(args.output, "export", code=codes.E293):
        out = sys.stdout if args.output == "-" else open(args.output, "w", encoding="utf-8")
        try:
            if fmt == "jsonl":
                count = audit_export.write_jsonl(records, out)
            elif fmt == "sarif":
                from capc.sarif import from_audit_records

                log = from_audit_records(records)
                json.dump(log, out, indent=1)
                out.write("\n")
                count = len(log["runs"][0]["properties"]["verdicts"])
            else:
                limit = audit_export.DEFAULT_MAX_PICTURES if args.max_pictures is None else args.max_pictures
                count = audit_export.write_html(records, out, stats=store.stats(), max_pictures=limit)
        finally:
            if out is not sys.stdout:
                out.close()
    if args.output != "-":
        print(f"exported {count} records to {args.output} ({fmt})")
    return EXIT_OK


def _export_mcap(store, args) -> int:
    """One run record as MCAP (capc.audit.mcap), written from what the store holds."""
    from capc.audit.mcap import write_mcap
    from capc.diagnostics import InputError
    from capc.files import check_output_path, output_errors

    if args.id is None:
        raise InputError("--mcap writes one run: name it", code=codes.E292,
                         hint="capc audit export RUN --mcap run.mcap (RUN: an id from `capc audit list --kind run`, or `last`)")
    check_output_path(args.mcap, "MCAP export", code=codes.E293, example="run.mcap")
    record = find_record(store, args.id, "run")
    try:
        with output_errors(args.mcap, "MCAP export", code=codes.E293):
            counts = write_mcap(record, args.mcap)
    except ValueError as exc:   # NoTimeline, or a timeline this capc cannot read
        raise InputError(str(exc), code=codes.E295,
                         hint="only runs recorded by this capc have one: `capc audit list --kind run`") from None
    print(f"exported run #{record['id']} to {args.mcap} (MCAP, {sum(counts.values())} messages on "
          f"{len(counts)} topics)")
    return EXIT_OK


# --- recheck ------------------------------------------------------------------------------------

def _recheck(store, args) -> int:
    from capc.diagnostics import InputError
    from capc.audit.recheck import recheck
    if not args.all and not args.ids:
        raise InputError("say which records to recheck: IDs or --all", code=codes.E294)
    spec = None
    if args.limits:
        from capc.safety.spec import load_spec
        spec = load_spec(args.limits)
    if args.all:
        records = store.iter_records()
    else:
        missing = [i for i in args.ids if store.get(i) is None]
        if missing:
            raise InputError(f"no audit record #{missing[0]} in {store.path}", code=codes.E292)
        records = store.iter_records(args.ids)
    if args.workers is not None or args.ray is not None:
        from capc.audit.recheck import recheck_parallel
        summary = recheck_parallel(records, spec_override=spec, workers=args.workers, ray_address=args.ray)
    else:
        summary = recheck(records, spec_override=spec)
    if args.json:
        from capc.commands.json_output import emit

        emit("audit recheck", {**summary.to_json(), "error": None}, ensure_ascii=False, indent=1)
        return EXIT_CHANGED if summary.changed else EXIT_OK
    data = summary.to_json()
    for r in summary.changed:
        print(terminal_safe(f"#{r.record_id}: {r.old_verdict or 'none'} -> {r.new_verdict}"
                            + (f"  ({r.detail})" if r.detail else "")))
    print(f"rechecked {data['checked']} records ({summary.programs_verified} distinct programs "
          f"verified, {data['skipped']} without source skipped) in {summary.seconds:.2f} s: "
          f"{len(summary.changed)} verdicts changed")
    return EXIT_CHANGED if summary.changed else EXIT_OK


# --- stats --------------------------------------------------------------------------------------

def _stats(store, args) -> int:
    stats = store.stats()
    if args.check:
        stats["integrity"] = store.check_integrity()
    if args.json:
        from capc.commands.json_output import emit

        emit("audit stats", {**stats, "error": None}, ensure_ascii=False, indent=1)
        return EXIT_OK if stats.get("integrity", {"ok": True})["ok"] else 1
    print(f"store: {stats['path']} (schema v{stats['schema_version']}, {stats['bytes']} bytes)")
    print(f"records: {stats['records']}" + (f" from {stats['first']} to {stats['last']}" if stats["records"] else ""))
    for title, key in (("by verdict", "by_verdict"), ("by kind", "by_kind"),
                       ("runs", "by_run_status"), ("obligations", "obligations"),
                       ("violations by property", "violations_by_property"),
                       ("most frequent codes", "top_codes")):
        if stats[key]:
            print(f"{title}: " + ", ".join(f"{k} {v}" for k, v in stats[key].items()))
    print(f"repair attempts: {stats['repairs']}; runs stopped by the monitor: {stats['monitor_stops']}")
    if args.check:
        integrity = stats["integrity"]
        print(f"integrity: sqlite {integrity['sqlite']}; "
              + ("every record intact" if not integrity["broken"] else
                 f"checksum mismatch in records {integrity['broken'][:20]}"))
        return EXIT_OK if integrity["ok"] else 1
    return EXIT_OK


ACTIONS = {"list": _list, "show": _show, "export": _export, "recheck": _recheck, "stats": _stats}
