"""Exports of the audit store: JSON Lines (one full record a line) and one HTML file.

The HTML file stands alone: no script, no external style sheet, font or image; pictures are
PNGs inlined as `data:` URIs, and a Content-Security-Policy forbids the page from fetching
anything else, so it can be mailed, archived or opened offline and shows the same thing.
"""

from __future__ import annotations

import base64
import html
import json
from typing import Any, Iterable, TextIO

from capc import __version__
from capc.diagnostics import describe_counterexample, listing_lines, render
from capc.audit.store import diagnostic_from_json, failing_obligations, now_iso, offending_lines, proptest_summary

DEFAULT_MAX_PICTURES = 100


def write_jsonl(records: Iterable[dict], out: TextIO) -> int:
    count = 0
    for record in records:
        out.write(json.dumps(record, sort_keys=True, ensure_ascii=False) + "\n")
        count += 1
    return count


# --- HTML -------------------------------------------------------------------------------------

STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 1100px; padding: 16px 24px;
       color: #222; background: #fff; }
h1 { font-size: 22px; margin: 8px 0 4px; } h2 { font-size: 18px; margin: 28px 0 8px; }
h3 { font-size: 14px; margin: 14px 0 6px; }
table { border-collapse: collapse; margin: 6px 0; } td, th { padding: 3px 8px; text-align: left;
  border-bottom: 1px solid #e3e3e3; vertical-align: top; } th { background: #f4f4f4; }
.verdict { font-weight: 700; text-transform: uppercase; font-size: 12px; padding: 1px 6px; border-radius: 3px; }
.accepted { background: #d9f2de; color: #135c24; } .guarded { background: #fff1c9; color: #6b4e00; }
.rejected, .error, .failed { background: #ffd9d9; color: #8a0b0b; } .passed { background: #d9f2de; color: #135c24; }
section.record { border-top: 2px solid #ccc; margin-top: 24px; }
pre { background: #f7f7f7; padding: 8px 10px; overflow-x: auto; font: 13px/1.4 ui-monospace, monospace;
      margin: 6px 0; }
pre.source span.ln { color: #999; user-select: none; }
pre.source .bad { background: #ffe0e0; display: inline-block; width: 100%; }
pre.source mark { background: #ff9f9f; color: #000; }
.picture img { max-width: 100%; border: 1px solid #ddd; }
.muted { color: #777; } dl { display: grid; grid-template-columns: max-content auto; gap: 2px 12px; }
dt { color: #666; } dd { margin: 0; }
"""


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _verdict(value: str | None) -> str:
    v = value or "none"
    return f'<span class="verdict {_e(v)}">{_e(v)}</span>'


def source_html(record: dict) -> str:
    """The policy with line numbers; offending lines tinted, offending columns marked."""
    source = record.get("source")
    if not source:
        return '<p class="muted">no policy source stored</p>'
    marks = offending_lines(record)
    lines = listing_lines(source)
    width = len(str(len(lines)))
    out = []
    for number, text in enumerate(lines, 1):
        body = _e(text)
        if number in marks:
            col, end = min(marks[number])   # the first offending span on the line
            start, stop = max(col - 1, 0), min(end - 1, len(text))
            if start < stop:
                body = _e(text[:start]) + "<mark>" + _e(text[start:stop]) + "</mark>" + _e(text[stop:])
            out.append(f'<span class="bad"><span class="ln">{number:>{width}} &gt; </span>{body}</span>')
        else:
            out.append(f'<span class="ln">{number:>{width}} | </span>{body}')
    return '<pre class="source">' + "\n".join(out) + "</pre>"


def _cex_key(cex: Any) -> str:
    return json.dumps(cex, sort_keys=True)


def _reasons_html(record: dict) -> str:
    parts = []
    source = record.get("source")
    for diag in record.get("diagnostics") or []:
        if isinstance(diag, dict):
            parts.append("<pre>" + _e(render(diagnostic_from_json(diag, record.get("file")), source))
                         + "</pre>")
    # a counterexample already printed with its diagnostic is not printed again
    shown = {_cex_key(d.get("counterexample")) for d in record.get("diagnostics") or []
             if isinstance(d, dict) and d.get("counterexample")}
    for ob in failing_obligations(record):
        span = ob.get("span") or {}
        where = f"line {span.get('line')}:{span.get('col')}" if span.get("line") else "no location"
        role = f" ({ob['role']})" if ob.get("role") else ""
        text = [f"{ob.get('verdict')}: {ob.get('primitive') or '?'}{role} "
                f"{ob.get('property') or ''} at {where}",
                f"  {ob.get('message') or ''}"]
        if ob.get("counterexample") and _cex_key(ob["counterexample"]) not in shown:
            text += describe_counterexample(ob["counterexample"])
        parts.append("<pre>" + _e("\n".join(text)) + "</pre>")
    found = proptest_summary(record)
    if found:
        parts.append("<pre>" + _e("\n".join(found)) + "</pre>")
    return "\n".join(parts) or '<p class="muted">nothing to report</p>'


def _kv_table(data: dict | None) -> str:
    if not data:
        return '<p class="muted">none</p>'
    rows = "".join(f"<tr><th>{_e(k)}</th><td>{_e(json.dumps(v, ensure_ascii=False) if not isinstance(v, str) else v)}</td></tr>"
                   for k, v in data.items())
    return f"<table>{rows}</table>"


def _picture_html(record: dict) -> str:
    from capc.audit.plot import render as render_picture
    picture = render_picture(record)
    data = base64.b64encode(picture.png).decode("ascii")
    alt = f"top-down and side view of record {record.get('id')}: workspace, keep-out zones, objects"
    if picture.obligation is not None:
        alt += ", offending target in red"
    return (f'<div class="picture"><img alt="{_e(alt)}" width="{picture.frame.width_px}" '
            f'height="{picture.frame.height_px}" src="data:image/png;base64,{data}"></div>')


def record_html(record: dict, *, picture: bool) -> str:
    rid = record.get("id")
    model = "/".join(x for x in (record.get("provider"), record.get("model")) if x)
    meta = [("time", record.get("time")), ("kind", record.get("kind")),
            ("capc", record.get("capc_version")), ("file", record.get("file")),
            ("instruction", record.get("instruction")), ("model", model or None),
            ("parent record", record.get("parent_id")), ("IR hash", record.get("ir_hash")),
            ("run", record.get("run_status")),
            ("checksum", "intact" if record.get("intact", True) else "MISMATCH")]
    dl = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in meta if v is not None)
    parts = [f'<section class="record" id="r{_e(rid)}">',
             f"<h2>#{_e(rid)} {_verdict(record.get('verdict'))} {_e(record.get('instruction') or record.get('file') or '')}</h2>",
             f"<dl>{dl}</dl>", "<h3>Policy</h3>", source_html(record),
             "<h3>Why</h3>", _reasons_html(record)]
    if picture:
        parts += ["<h3>Picture</h3>", _picture_html(record)]
    obligations = record.get("obligations") or []
    if obligations:
        rows = "".join(
            f"<tr><td>{_e(o.get('id'))}</td><td>{_e(o.get('primitive'))}</td><td>{_e(o.get('role'))}</td>"
            f"<td>{_e(o.get('property'))}</td><td>{_verdict(o.get('verdict'))}</td>"
            f"<td>{_e((o.get('span') or {}).get('line'))}</td></tr>" for o in obligations)
        parts.append(f"<h3>Obligations ({len(obligations)})</h3><table><tr><th>id</th><th>primitive</th>"
                     f"<th>step</th><th>property</th><th>verdict</th><th>line</th></tr>{rows}</table>")
    attempts = record.get("attempts") or []
    if len(attempts) > 1 or any(a.get("reply") for a in attempts):
        parts.append(f"<h3>Attempts ({len(attempts)})</h3>")
        for a in attempts:
            repairs = f", repairs attempt {a['parent'] + 1}" if a.get("parent") is not None else ""
            parts.append(f"<details><summary>attempt {a['index'] + 1}: {_e(a.get('verdict') or '?')}{_e(repairs)}"
                         f"</summary><pre>{_e(a.get('source') or a.get('reply') or '')}</pre></details>")
    if record.get("run") or record.get("monitor_events"):
        parts.append("<h3>Run</h3>" + _kv_table(record.get("run") if isinstance(record.get("run"), dict) else {"run": record.get("run")}))
        events = record.get("monitor_events") or []
        parts.append(f"<p>monitor interventions: {len(events)}</p>")
    if record.get("timings"):
        parts.append("<h3>Timings (s)</h3>" + _kv_table(record["timings"]))
    parts.append("</section>")
    return "\n".join(parts)


def wants_picture(record: dict) -> bool:
    from capc.audit.plot import offending_obligation
    return offending_obligation(record) is not None


def write_html(records: Iterable[dict], out: TextIO, *, stats: dict | None = None,
               max_pictures: int = DEFAULT_MAX_PICTURES, title: str = "capc audit export") -> int:
    """Write the whole export; returns the number of records written."""
    records = list(records)
    out.write("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
              "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
              "img-src data:; style-src 'unsafe-inline'\">\n"
              "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
              "<link rel=\"icon\" href=\"data:,\">\n"
              f"<title>{_e(title)}</title>\n<style>{STYLE}</style></head><body>\n")
    out.write(f"<h1>{_e(title)}</h1><p class=\"muted\">{len(records)} records, exported "
              f"{_e(now_iso())} by capc {_e(__version__)}</p>\n")
    if stats:
        summary = ", ".join(f"{k}: {v}" for k, v in (stats.get("by_verdict") or {}).items())
        out.write(f"<p>store: {_e(stats.get('path'))} (schema v{_e(stats.get('schema_version'))}); "
                  f"{_e(summary)}</p>\n")
    rows = "".join(
        f"<tr><td><a href=\"#r{_e(r.get('id'))}\">#{_e(r.get('id'))}</a></td><td>{_e(r.get('time'))}</td>"
        f"<td>{_e(r.get('kind'))}</td><td>{_verdict(r.get('verdict'))}</td>"
        f"<td>{_e(r.get('instruction') or r.get('file') or '')}</td></tr>" for r in records)
    out.write(f"<table><tr><th>id</th><th>time</th><th>kind</th><th>verdict</th><th>what</th></tr>{rows}</table>\n")
    pictures = omitted = 0
    for record in records:
        picture = wants_picture(record)
        if picture and pictures >= max_pictures:
            picture, omitted = False, omitted + 1
        pictures += picture
        out.write(record_html(record, picture=picture) + "\n")
    if omitted:
        out.write(f"<p class=\"muted\">pictures left out: {omitted}; only the first {max_pictures} "
                  f"records with a counterexample are drawn (raise --max-pictures)</p>\n")
    out.write("</body></html>\n")
    return len(records)
